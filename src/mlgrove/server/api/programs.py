"""REST endpoints for growth programmes: mentorship, learning time, help requests, design reviews, rotations."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["programs"])
