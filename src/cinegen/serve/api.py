"""The HTTP API: OpenAI's Videos API under /v1 (paths, fields and bodies of the `openai` package), plus
content provenance checks and the web page at /.

The API process never generates: it checks a request, writes a job row and answers. Workers (worker.py,
their own processes) do the rest, so status calls stay fast while videos are being made.
"""
from __future__ import annotations

import json
import math
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Literal, Optional

from fastapi import Depends, FastAPI, File, Form, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException

from cinegen.common.atomic import atomic_path
from cinegen.common.errors import InputError
from cinegen.pipeline.limits import EDIT_STRENGTH
from cinegen.pipeline.run import NEW_SECONDS
from cinegen.serve import outputs as O
from cinegen.serve.config import ServeConfig
from cinegen.serve.errors import ApiError, bad_request, not_found
from cinegen.serve.jobspec import (
    ModelInfo,
    format_seconds,
    parse_seconds,
    parse_size,
    parse_storyboard_field,
    sampling_params,
)
from cinegen.serve.schemas import (
    ERROR_RESPONSES,
    ProvenanceCheck,
    ProvenanceResult,
    RemixBody,
    Video,
    VideoDeleted,
    VideoList,
)
from cinegen.serve.store import ACTIVE, JobStore

STATIC = Path(__file__).resolve().parent / "static"
POLL_AFTER_MS = "500"  # the openai client's poll loop waits this long between status calls
QUEUE_RETRY_AFTER = 5


class RateLimiter:
    """A token bucket per key: `per_minute` requests, refilled continuously (one process's view)."""

    def __init__(self, per_minute: int):
        self.rate, self.capacity = per_minute / 60.0, float(per_minute)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """0 if the request may go ahead, else the seconds until it may."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / self.rate


class BodyLimit:
    """413 in OpenAI's error shape for bodies over the upload limit, before any of it is read."""

    def __init__(self, app, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            return await self._too_large().response()(scope, receive, send)
        seen = 0

        async def limited():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b"")) if message["type"] == "http.request" else 0
            if seen > self.max_bytes:  # a streamed body without Content-Length
                raise StarletteHTTPException(413, self._too_large().message)
            return message

        await self.app(scope, limited, send)

    def _too_large(self) -> ApiError:
        return ApiError(413, f"request body is larger than the upload limit of {self.max_bytes / 2**20:g} MiB",
                        None, "file_too_large")


def video_object(row: dict) -> dict:
    error = {"code": row["error_code"], "message": row["error_message"] or ""} if row["status"] == "failed" else None
    return {
        "id": row["id"], "object": "video", "created_at": row["created_at"], "completed_at": row["completed_at"],
        "expires_at": row["expires_at"], "status": row["status"], "progress": int(row["progress"] or 0),
        "model": row["model"], "seconds": row["seconds"], "size": row["size"], "prompt": row["prompt"],
        "remixed_from_video_id": row["remixed_from"], "error": error,
    }


def _param_of(loc: tuple) -> str | None:
    names = [p for p in loc if isinstance(p, str) and p not in ("body", "query", "path", "header")]
    return names[-1] if names else None


HTTP_CODES = {401: "invalid_api_key", 404: "not_found", 405: "method_not_allowed", 413: "file_too_large"}


def create_app(cfg: ServeConfig, info: ModelInfo, store: JobStore | None = None) -> FastAPI:
    store = store or JobStore(cfg.db_url)
    limiter = RateLimiter(cfg.requests_per_minute)
    bearer = HTTPBearer(auto_error=False, description="an API key made by `cinegen keys create`")
    app = FastAPI(title="cinegen", version="0.1.0", docs_url="/docs", redoc_url=None,
                  description="OpenAI's Videos API, served by cinegen on your own machine.")
    app.state.store, app.state.info, app.state.cfg = store, info, cfg
    app.add_middleware(BodyLimit, max_bytes=cfg.max_upload_bytes)
    for sub in (cfg.outputs, cfg.uploads):
        sub.mkdir(parents=True, exist_ok=True)

    # ---------------------------------------------------------------- errors in OpenAI's shape
    @app.exception_handler(ApiError)
    async def _api_error(_req: Request, e: ApiError) -> JSONResponse:
        return e.response()

    @app.exception_handler(RequestValidationError)
    async def _invalid(_req: Request, e: RequestValidationError) -> JSONResponse:
        err = e.errors()[0] if e.errors() else {"loc": (), "msg": "invalid request"}
        param = _param_of(tuple(err.get("loc", ())))
        msg = err.get("msg", "invalid value")
        text = f"{param}: {msg}" if param else msg
        return bad_request(text, param, "missing_required_parameter" if err.get("type") == "missing"
                           else "invalid_value").response()

    @app.exception_handler(StarletteHTTPException)
    async def _http(_req: Request, e: StarletteHTTPException) -> JSONResponse:
        detail = e.detail if isinstance(e.detail, str) else "request failed"
        return ApiError(e.status_code, detail, None, HTTP_CODES.get(e.status_code, "invalid_request"),
                        dict(e.headers or {})).response()

    @app.exception_handler(Exception)
    async def _crash(_req: Request, e: Exception) -> JSONResponse:
        return ApiError(500, f"internal error: {type(e).__name__}", None, "server_error").response()

    # ---------------------------------------------------------------- keys and limits
    def auth(creds: Optional[HTTPAuthorizationCredentials] = Depends(bearer)) -> str:
        if creds is None or not creds.credentials:
            raise ApiError(401, "no API key: send 'Authorization: Bearer KEY' (make a key with `cinegen keys create`)",
                           None, "missing_api_key")
        key_id = store.key_for_secret(creds.credentials)
        if key_id is None:
            raise ApiError(401, "invalid or revoked API key", None, "invalid_api_key")
        wait = limiter.take(key_id)
        if wait > 0:
            raise ApiError(429, f"rate limit of {cfg.requests_per_minute} requests per minute reached",
                           None, "rate_limit_exceeded", {"Retry-After": str(math.ceil(wait))})
        return key_id

    def check_queue(key_id: str) -> None:
        if store.count_active(key_id) >= cfg.max_queued_per_key:
            raise ApiError(429, f"this key already has {cfg.max_queued_per_key} videos queued or in progress; "
                           "wait for some to finish", None, "too_many_queued_jobs",
                           {"Retry-After": str(QUEUE_RETRY_AFTER)})

    def own_job(video_id: str, key_id: str, param: str | None = None) -> dict:
        row = store.get_job(video_id, key_id)  # another key's video is "not found", never "forbidden"
        if row is None:
            raise not_found(f"video '{video_id}'", param)
        return row

    def new_job(key_id: str, *, prompt: str, seconds: float, params: dict, remixed_from: str | None = None,
                job_id: str | None = None) -> dict:
        row = store.add_job(key_id, model=info.name, seconds=format_seconds(seconds),
                            size=f"{params['width']}x{params['height']}", prompt=prompt, params=params,
                            remixed_from=remixed_from, job_id=job_id)
        return video_object(row)

    # ---------------------------------------------------------------- uploads and sources
    def save_upload(upload: UploadFile, dest: Path) -> Path:
        with atomic_path(dest) as tmp, open(tmp, "wb") as f:
            shutil.copyfileobj(upload.file, f, 1 << 20)
        return dest

    def read_image(upload: UploadFile, job_id: str, param: str) -> str:
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(upload.file) as img:
                img.load()
                rgb = img.convert("RGB")
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
            raise bad_request(f"{param} is not an image PNG, JPEG or WebP can read", param, "invalid_image") from None
        if min(rgb.size) < 1:
            raise bad_request(f"{param} is empty", param, "invalid_image")
        rel = f"uploads/{job_id}.png"
        with atomic_path(cfg.data / rel) as tmp:
            rgb.save(tmp, format="PNG")
        return rel

    def image_from_data_url(url: str, job_id: str) -> str:
        import base64
        import io

        if not url.startswith("data:") or ";base64," not in url:
            raise bad_request("input_reference[image_url] must be a base64 data: URL (this server makes no web "
                              "requests); or upload the image as input_reference", "input_reference[image_url]")
        try:
            raw = base64.b64decode(url.split(";base64,", 1)[1], validate=True)
        except ValueError:
            raise bad_request("input_reference[image_url] is not valid base64", "input_reference[image_url]") from None
        return read_image(UploadFile(io.BytesIO(raw)), job_id, "input_reference[image_url]")

    def source_video(key_id: str, job_id: str, video: UploadFile | None, video_ref: str | None,
                     param: str = "video") -> dict:
        """A completed video of this key, or an uploaded one, copied under the new job: path, size, fps.
        `param` names the form field (a job with two sources keeps them apart by it)."""
        tag = "" if param == "video" else f"-{param}"
        from cinegen.common.video_io import probe_video

        if video_ref:
            row = own_job(video_ref, key_id, f"{param}[id]")
            if row["status"] != "completed":
                raise bad_request(f"video '{video_ref}' is {row['status']}, not completed", f"{param}[id]",
                                  "video_not_ready")
            src = O.variant_path(cfg.outputs, row["id"], "video")
            if (row["expires_at"] and row["expires_at"] <= time.time()) or not src.exists():
                raise bad_request(f"video '{video_ref}' has expired", f"{param}[id]", "video_expired")
            rel = f"uploads/{job_id}{tag}.mp4"
            with atomic_path(cfg.data / rel) as tmp:
                shutil.copyfile(src, tmp)
            w, h = (int(v) for v in row["size"].split("x"))
            return {"source": rel, "width": w, "height": h, "fps": json.loads(row["params"])["fps"],
                    "seconds": float(row["seconds"])}
        if video is None or not getattr(video, "filename", None):
            raise bad_request(f"{param} is required: upload a file as `{param}` or give `{param}[id]` of a completed "
                              "video", param, "missing_required_parameter")
        suffix = Path(video.filename).suffix.lower()[:8] or ".mp4"
        rel = f"uploads/{job_id}{tag}{suffix}"
        save_upload(video, cfg.data / rel)
        try:
            meta = probe_video(cfg.data / rel)
        except InputError as e:
            (cfg.data / rel).unlink(missing_ok=True)
            raise bad_request(f"{param}: {e}", param, "invalid_video") from None
        return {"source": rel, "width": meta.width, "height": meta.height, "fps": min(60.0, max(1.0, meta.fps)),
                "seconds": meta.duration, "frames": meta.frames}

    def size_for(size: str | None, src: dict) -> tuple[int, int]:
        from cinegen.pipeline import limits as L

        if size:
            return parse_size(size, info)
        if L.MIN_SIDE <= src["width"] <= L.MAX_SIDE and L.MIN_SIDE <= src["height"] <= L.MAX_SIDE:
            return src["width"], src["height"]
        return parse_size(None, info)

    # ---------------------------------------------------------------- the Videos API
    R = {"responses": ERROR_RESPONSES}

    @app.post("/v1/videos", response_model=Video, tags=["videos"], **R)
    def create_video(
        key_id: str = Depends(auth),
        prompt: str = Form(..., description="what the video shows"),
        model: Optional[str] = Form(None, description=f"'{info.name}', or sora-2 / sora-2-pro (aliases of it)"),
        seconds: Optional[str] = Form(None, description="duration in seconds (any the model supports)"),
        size: Optional[str] = Form(None, description="WIDTHxHEIGHT"),
        input_reference: Optional[UploadFile] = File(None, description="an image: image-to-video"),
        input_reference_url: Optional[str] = Form(None, alias="input_reference[image_url]"),
        input_reference_file: Optional[str] = Form(None, alias="input_reference[file_id]"),
        seed: Optional[int] = Form(None), steps: Optional[int] = Form(None),
        guidance: Optional[float] = Form(None), fps: Optional[float] = Form(None),
        negative_prompt: Optional[str] = Form(None),
        storyboard: Optional[str] = Form(None, description="YAML/JSON storyboard or '4s: shot | 3s close-up: shot'"),
        loop: Optional[bool] = Form(None, description="a seamless loop: the last frame flows into the first"),
    ) -> dict:
        """Text-to-video; image-to-video with `input_reference`; a multi-shot video with `storyboard`; a seamless
        loop with `loop`."""
        info.check_model(model)
        if input_reference_file:
            raise bad_request("file ids are not supported here: upload the image as input_reference",
                              "input_reference[file_id]")
        has_image = input_reference is not None or bool(input_reference_url)
        if storyboard and has_image:
            raise bad_request("give either a storyboard or an input_reference, not both", "storyboard")
        if loop and (storyboard or has_image):
            raise bad_request("a loop takes neither a storyboard nor an input_reference", "loop")
        w, h = parse_size(size, info)
        board = parse_storyboard_field(storyboard) if storyboard else None
        secs = board.seconds if board else parse_seconds(seconds, info.sampling.seconds)
        first_prompt = board.shot_prompt(board.shots[0]) if board else prompt
        fps = fps if fps is not None else (board.fps if board and board.fps else None)
        params = sampling_params(info, first_prompt, secs, w, h, fps=fps, steps=steps, guidance=guidance, seed=seed,
                                 negative_prompt=negative_prompt)
        check_queue(key_id)
        job_id = store.new_id()
        params["mode"] = "storyboard" if board else ("image" if has_image else ("loop" if loop else "text"))
        if board:
            params["storyboard"] = storyboard
        elif input_reference is not None:
            params["image"] = read_image(input_reference, job_id, "input_reference")
        elif input_reference_url:
            params["image"] = image_from_data_url(input_reference_url, job_id)
        return new_job(key_id, prompt=prompt, seconds=secs, params=params, job_id=job_id)

    @app.get("/v1/videos/{video_id}", response_model=Video, tags=["videos"], **R)
    def retrieve_video(video_id: str, response: Response, key_id: str = Depends(auth)) -> dict:
        row = own_job(video_id, key_id)
        if row["status"] in ACTIVE:
            response.headers["openai-poll-after-ms"] = POLL_AFTER_MS
        return video_object(row)

    @app.get("/v1/videos", response_model=VideoList, tags=["videos"], **R)
    def list_videos(
        key_id: str = Depends(auth),
        after: Optional[str] = Query(None, description="id of the last video of the previous page"),
        limit: int = Query(20, ge=1, le=100),
        order: Literal["asc", "desc"] = Query("desc"),
    ) -> dict:
        page = store.list_jobs(key_id, after, limit, order)
        if page is None:
            raise bad_request(f"after: no video '{after}' for this key", "after")
        rows, more = page
        data = [video_object(r) for r in rows]
        return {"object": "list", "data": data, "first_id": data[0]["id"] if data else None,
                "last_id": data[-1]["id"] if data else None, "has_more": more}

    @app.delete("/v1/videos/{video_id}", response_model=VideoDeleted, tags=["videos"], **R)
    def delete_video(video_id: str, key_id: str = Depends(auth)) -> dict:
        """Delete a video and its files; a job still queued or running is cancelled."""
        row = own_job(video_id, key_id)
        store.delete_job(video_id, key_id)
        if row["status"] not in ACTIVE:
            O.remove_job_files(cfg.outputs, video_id)
            O.remove_uploads(cfg.uploads, video_id)
            store.mark_cleaned(video_id)
        return {"id": video_id, "object": "video.deleted", "deleted": True}

    @app.get("/v1/videos/{video_id}/content", tags=["videos"], response_class=FileResponse,
             responses={**ERROR_RESPONSES, 200: {"content": {"video/mp4": {}, "image/webp": {}, "image/jpeg": {}},
                                                  "description": "the file; HTTP Range requests are supported"},
                        206: {"description": "part of the file (Range)"},
                        416: {"description": "range not satisfiable"}})
    def download_content(video_id: str, key_id: str = Depends(auth),
                         variant: Literal["video", "thumbnail", "spritesheet"] = Query("video")) -> FileResponse:
        row = own_job(video_id, key_id)
        if row["status"] != "completed":
            raise bad_request(f"video '{video_id}' is {row['status']}; content is ready once it is completed",
                              None, "video_not_ready")
        path = O.variant_path(cfg.outputs, video_id, variant)
        if (row["expires_at"] and row["expires_at"] <= time.time()) or not path.exists():
            raise ApiError(404, f"the content of video '{video_id}' has expired", None, "video_expired")
        name, media = O.VARIANTS[variant]
        return FileResponse(path, media_type=media, filename=f"{video_id}{Path(name).suffix}",
                            content_disposition_type="inline")

    @app.post("/v1/videos/{video_id}/remix", response_model=Video, tags=["videos"], **R)
    def remix_video(video_id: str, body: RemixBody, key_id: str = Depends(auth)) -> dict:
        """A new video: the completed one edited toward a new prompt (FlowEdit away from the video's own prompt;
        `strength`, default 0.92)."""
        src_row = own_job(video_id, key_id)
        if src_row["status"] != "completed":
            raise bad_request(f"video '{video_id}' is {src_row['status']}, not completed", None, "video_not_ready")
        strength = check_strength(body.strength)
        check_queue(key_id)
        job_id = store.new_id()
        src = source_video(key_id, job_id, None, video_id)
        params = sampling_params(info, body.prompt, src["seconds"], src["width"], src["height"], fps=src["fps"],
                                 steps=body.steps, guidance=body.guidance, seed=body.seed,
                                 negative_prompt=body.negative_prompt)
        params.update(mode="edit", source=src["source"], strength=strength, source_prompt=src_row["prompt"])
        return new_job(key_id, prompt=body.prompt, seconds=src["seconds"], params=params, remixed_from=video_id,
                       job_id=job_id)

    @app.post("/v1/videos/extensions", response_model=Video, tags=["videos"], **R)
    def extend_video(
        key_id: str = Depends(auth),
        prompt: str = Form(...),
        seconds: str = Form(..., description="length of the new segment; the result is the stitched total"),
        video: Optional[UploadFile] = File(None, description="a video file to continue"),
        video_ref: Optional[str] = Form(None, alias="video[id]", description="or the id of a completed video"),
        direction: Literal["forward", "backward"] = Form("forward"),
        size: Optional[str] = Form(None), fps: Optional[float] = Form(None),
        seed: Optional[int] = Form(None), steps: Optional[int] = Form(None),
        guidance: Optional[float] = Form(None), negative_prompt: Optional[str] = Form(None),
    ) -> dict:
        """Continue a video after its end (or, with direction=backward, before its start)."""
        new = parse_seconds(seconds, 0)
        check_queue(key_id)
        job_id = store.new_id()
        src = source_video(key_id, job_id, video, video_ref)
        try:
            w, h = size_for(size, src)
            params = sampling_params(info, prompt, new, w, h, fps=fps or src["fps"], steps=steps, guidance=guidance,
                                     seed=seed, negative_prompt=negative_prompt)
            if src.get("frames", info.context_frames) < info.context_frames:
                raise bad_request(f"video has {src['frames']} frames; an extension needs at least "
                                  f"{info.context_frames}", "video")
        except ApiError:
            O.remove_uploads(cfg.uploads, job_id)
            raise
        params.update(mode="extend", source=src["source"], direction=direction)
        return new_job(key_id, prompt=prompt, seconds=src["seconds"] + new, params=params,
                       remixed_from=video_ref or None, job_id=job_id)

    @app.post("/v1/videos/connections", response_model=Video, tags=["videos"], **R)
    def connect_videos(
        key_id: str = Depends(auth),
        prompt: str = Form(...),
        seconds: Optional[str] = Form(None, description=f"length of the transition (default {NEW_SECONDS:g})"),
        video_a: Optional[UploadFile] = File(None, description="the video the transition starts from"),
        video_a_ref: Optional[str] = Form(None, alias="video_a[id]", description="or the id of a completed video"),
        video_b: Optional[UploadFile] = File(None, description="the video the transition leads into"),
        video_b_ref: Optional[str] = Form(None, alias="video_b[id]", description="or the id of a completed video"),
        size: Optional[str] = Form(None), fps: Optional[float] = Form(None),
        seed: Optional[int] = Form(None), steps: Optional[int] = Form(None),
        guidance: Optional[float] = Form(None), negative_prompt: Optional[str] = Form(None),
    ) -> dict:
        """A transition that starts on A's last frame and ends on B's first (cinegen's own; not in OpenAI's API)."""
        new = parse_seconds(seconds, NEW_SECONDS)
        check_queue(key_id)
        job_id = store.new_id()
        try:
            a = source_video(key_id, job_id, video_a, video_a_ref, "video_a")
            b = source_video(key_id, job_id, video_b, video_b_ref, "video_b")
            w, h = size_for(size, a)
            params = sampling_params(info, prompt, new, w, h, fps=fps or a["fps"], steps=steps, guidance=guidance,
                                     seed=seed, negative_prompt=negative_prompt)
            for name, src in (("video_a", a), ("video_b", b)):
                if src.get("frames", info.context_frames) < info.context_frames:
                    raise bad_request(f"{name} has {src['frames']} frames; a transition needs at least "
                                      f"{info.context_frames}", name)
        except ApiError:
            O.remove_uploads(cfg.uploads, job_id)
            raise
        params.update(mode="connect", source=a["source"], source_b=b["source"])
        return new_job(key_id, prompt=prompt, seconds=new + 2 / params["fps"], params=params, job_id=job_id)

    @app.post("/v1/videos/edits", response_model=Video, tags=["videos"], **R)
    def edit_video(
        key_id: str = Depends(auth),
        prompt: str = Form(...),
        video: Optional[UploadFile] = File(None, description="a video file to edit"),
        video_ref: Optional[str] = Form(None, alias="video[id]", description="or the id of a completed video"),
        strength: Optional[float] = Form(None, description=f"0 keeps the source, 1 ignores it (default {EDIT_STRENGTH:g})"),
        source_prompt: Optional[str] = Form(None, description="what the source video shows (default: a referenced "
                                                              "video's own prompt; none for an upload)"),
        size: Optional[str] = Form(None),
        seed: Optional[int] = Form(None), steps: Optional[int] = Form(None),
        guidance: Optional[float] = Form(None), negative_prompt: Optional[str] = Form(None),
    ) -> dict:
        """Change a video per the prompt, keeping its motion and layout (FlowEdit)."""
        strength = check_strength(strength)
        if source_prompt is None and video_ref:
            source_prompt = own_job(video_ref, key_id)["prompt"]
        check_queue(key_id)
        job_id = store.new_id()
        src = source_video(key_id, job_id, video, video_ref)
        try:
            w, h = size_for(size, src)
            params = sampling_params(info, prompt, src["seconds"], w, h, fps=src["fps"], steps=steps,
                                     guidance=guidance, seed=seed, negative_prompt=negative_prompt)
        except ApiError:
            O.remove_uploads(cfg.uploads, job_id)
            raise
        params.update(mode="edit", source=src["source"], strength=strength, source_prompt=source_prompt)
        return new_job(key_id, prompt=prompt, seconds=src["seconds"], params=params,
                       remixed_from=video_ref or None, job_id=job_id)

    # ---------------------------------------------------------------- provenance
    @app.post("/v1/content_provenance_checks", response_model=ProvenanceCheck, tags=["provenance"], **R)
    def provenance_check(file: UploadFile = File(...), key_id: str = Depends(auth)) -> dict:
        """The C2PA manifest and the invisible watermark of an uploaded file (what `cinegen verify` reports)."""
        suffix = Path(file.filename or "upload").suffix.lower()[:8] or ".mp4"
        with tempfile.TemporaryDirectory(dir=cfg.uploads) as d:
            path = Path(d) / f"check{suffix}"
            save_upload(file, path)
            return provenance_report(path)

    # ---------------------------------------------------------------- the page and health
    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    @app.get("/health", tags=["server"])
    def health() -> dict:
        return {"status": "ok", "model": info.name, "defaults": info.defaults}

    def openapi() -> dict:
        # Validation errors are 400s in OpenAI's shape here, never FastAPI's 422: document what is sent.
        if app.openapi_schema is None:
            from fastapi.openapi.utils import get_openapi

            doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            for path in doc["paths"].values():
                for op in path.values():
                    op.get("responses", {}).pop("422", None)
            for name in ("HTTPValidationError", "ValidationError"):
                doc.get("components", {}).get("schemas", {}).pop(name, None)
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = openapi
    return app


def check_strength(strength: float | None) -> float:
    if strength is None:
        return EDIT_STRENGTH
    if not (math.isfinite(strength) and 0 < strength <= 1):
        raise bad_request(f"strength must be more than 0 and at most 1, got {strength}", "strength")
    return float(strength)


def provenance_report(path: Path) -> dict:
    """OpenAI's content_provenance_check body from cinegen.provenance.verify_file (whichever parts exist)."""
    now = int(time.time())
    from cinegen.provenance import verify_file

    try:
        report = verify_file(path)
    except InputError as e:
        raise bad_request(str(e).replace(str(path), "file"), "file", "invalid_file") from None
    m, w = report.manifest, report.watermark
    state = ("trusted" if m.valid and m.trusted else "valid" if m.valid else "invalid") if m.present else "not_present"
    created = [a.get("when") for a in m.actions if isinstance(a, dict) and a.get("action") == "c2pa.created"]
    c2pa = ProvenanceResult(type="c2pa", outcome="detected" if m.present and m.ai_generated and m.valid
                            else "not_detected", validation_state=state, issuer=m.signer, model=m.generator,
                            generated_at=created[0] if created else None)
    wm = ProvenanceResult(type="watermark", outcome="detected" if w.detected else "not_detected",
                          p_false_alarm=w.p_false_alarm)
    details = report.to_dict()
    details.pop("path", None)
    return {"object": "content_provenance_check", "created_at": now, "results": [c2pa.model_dump(), wm.model_dump()],
            "marked": report.marked, "details": details}
