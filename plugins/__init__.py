"""Sila's channel plugins: one package a channel, each registered in the ``portal.plugins`` entry-point group."""
