"""Growing engineers, programmes: mentorship, learning time, help requests, design reviews, rotations."""
