"""Social media: WhatsApp, Messenger, Instagram and other platforms (وسائل التواصل الاجتماعي).

Contacts on this channel are logged through the core's generic contact form; the channel's own
screens and integrations are added to this plugin as they are built."""
from portal.channels import declare_channel

channel_info = declare_channel("social", "وسائل التواصل الاجتماعي", "Social media", "💬", order=30)
