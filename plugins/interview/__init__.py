"""In-person interviews at the association's offices (المقابلة).

Contacts on this channel are logged through the core's generic contact form; the channel's own
screens and integrations are added to this plugin as they are built."""
from portal.channels import declare_channel

channel_info = declare_channel("interview", "المقابلة الشخصية", "In-person interview", "👤", order=10,
                               in_person=True)
