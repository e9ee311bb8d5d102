"""Branch-office delegates and their field visits (مناديب المكاتب الفرعية).

Contacts on this channel are logged through the core's generic contact form; the channel's own
screens and integrations are added to this plugin as they are built."""
from portal.channels import declare_channel

channel_info = declare_channel("delegates", "مناديب المكاتب الفرعية", "Branch delegates", "🏢", order=80)
