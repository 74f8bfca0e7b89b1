"""Settings, the event store behind one URL, transcoding and encryption."""
