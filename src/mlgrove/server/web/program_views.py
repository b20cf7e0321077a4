"""Web pages: mentorship, learning time, help requests, design reviews, rotations."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
