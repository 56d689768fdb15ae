"""The bidder pre-check over HTTP: anyone may ask (no account), rate-limited, nothing kept."""

from __future__ import annotations

import asyncio
import json

from fastapi import APIRouter, Depends, Request, Response

from ..precheck import MAX_UPLOAD_BYTES, precheck_upload, result_to_dict
from .context import get_context
from .problems import Problem
from .security import public
from .uploads import read_form

__all__ = ["router"]

router = APIRouter()

_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "A certificate (PEM or DER) or a small signed test document.",
                        }
                    },
                }
            }
        },
    }
}
_EXAMPLE = {
    "kind": "certificate",
    "certificate": {"subject": "CN=Lucía García,O=Construcciones García S.L.,C=ES", "qualification": "AdESig-QC"},
    "pilots": [
        {
            "pilot": "it",
            "name": "Italy",
            "decision": "REJECT",
            "rule": "R-QSCD",
            "reason": "The key was not on a qualified signature creation device (QC_FOR_ESIG).",
            "next_step": "Italy requires a qualified electronic signature: a qualified certificate whose key is on a "
            "qualified signature creation device (...)",
        }
    ],
}


@router.post(
    "/v1/certificates/check",
    tags=["bidders"],
    summary="Will my certificate be accepted? The per-pilot matrix, with the reason and the next step",
    description="Upload a certificate (PEM or DER) or a small signed test document (up to 2 MB). A private key sent "
    "by mistake is refused and not kept; nothing uploaded is stored. No API key needed; rate-limited per address.",
    openapi_extra=_DOC,
    responses={200: {"content": {"application/json": {"example": _EXAMPLE}}}},
    dependencies=[Depends(public)],
)
async def check_certificate(request: Request) -> Response:
    context = get_context(request)
    form = await read_form(request, max_bytes=MAX_UPLOAD_BYTES + 64 * 1024, max_files=1)
    try:
        files = form.files_named("file")
        if len(files) != 1:
            raise Problem(400, "missing-file", "Send exactly one certificate or signed document in the field 'file'.")
        (upload,) = files
        if upload.size == 0:
            raise Problem(400, "empty-upload", f"The file {upload.filename!r} is empty.")
        data = await asyncio.to_thread(upload.path.read_bytes)
        result = await precheck_upload(data, upload.filename, context)
        return Response(json.dumps(result_to_dict(result), ensure_ascii=False), media_type="application/json")
    finally:
        form.cleanup()
