"""Photo sources (drop folder, phones, libgphoto2), the import pipeline, journal and wipe."""
