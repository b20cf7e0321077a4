"""API tokens of the calling person."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from mlgrove.server.api.schemas import NewTokenOut, TokenIn, TokenOut
from mlgrove.server.deps import context
from mlgrove.services import tokens
from mlgrove.services.context import Context

router = APIRouter(tags=["tokens"])


@router.get("/tokens", response_model=list[TokenOut])
def list_tokens(username: str | None = None, ctx: Context = Depends(context)) -> list[TokenOut]:
    """Your tokens (administrators: anyone's, with ``?username=``)."""
    return [TokenOut.of(t) for t in tokens.list_tokens(ctx, username=username)]


@router.post("/tokens", response_model=NewTokenOut, status_code=201)
def create_token(body: TokenIn, ctx: Context = Depends(context)) -> NewTokenOut:
    """Create a token. Its secret is in this response and never again."""
    new = tokens.create_token(ctx, body.name, days=body.days, username=body.username)
    return NewTokenOut(token=TokenOut.of(new.info), secret=new.secret)


@router.post("/tokens/{token_id}/revoke", response_model=TokenOut)
def revoke_token(token_id: int, ctx: Context = Depends(context)) -> TokenOut:
    return TokenOut.of(tokens.revoke_token(ctx, token_id))
