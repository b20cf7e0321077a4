"""Growing engineers: ladder, feedback, feedback requests, growth plans, 1:1 notes, notifications."""
