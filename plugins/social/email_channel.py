"""Email as a channel beneficiaries may prefer (البريد الإلكتروني). Notifications to it are sent by
the social plugin's ``send_message`` over SMTP; officers may log email contacts by hand."""
from portal.channels import declare_channel

# route 30: in the notices' routing order after WhatsApp and SMS (portal.workflow.notices).
channel_info = declare_channel("email", "البريد الإلكتروني", "Email", "✉", order=35, route=30)
