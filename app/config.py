"""Settings: the only place that reads the environment."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_MODEL = "packaged:SmolLM2-135M-Instruct"
PROJECT_ROOT = Path(__file__).resolve().parents[1]  # where `make` puts its virtual environments


class Settings(BaseSettings):
    """Every setting Familiar reads, each from an environment variable of the same name."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    data_dir: Path = Field(
        default=Path("data"),
        description="Folder for the embedded SQLite database, uploads, job broker files.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL, e.g. postgresql+psycopg://user@host/db. "
        "Default: SQLite file familiar.db inside DATA_DIR.",
    )
    redis_url: str | None = Field(
        default=None,
        description="Celery broker. Unset: the embedded file broker inside DATA_DIR, "
        "with a worker started by `familiar serve`.",
    )
    model_cache: Path | None = Field(
        default=None,
        description="Where converted model weights are cached. Default: DATA_DIR/models.",
    )
    default_model: str = Field(
        default=DEFAULT_MODEL,
        description="Target model for new projects: the packaged SmolLM2-135M-Instruct, "
        "a Hugging Face id, or a local folder.",
    )
    max_upload_mb: float = Field(default=200.0, description="Largest accepted upload file.")
    # Issue 11: hostile uploads are refused early, before they cost memory.
    max_request_mb: float = Field(
        default=1024.0,
        gt=0,
        description="Largest request body (all files of one upload together): refused with "
        "413 from its Content-Length, or as soon as the streamed body passes it.",
    )
    max_upload_rows: int = Field(
        default=1_000_000, ge=1, description="Most records in one uploaded file."
    )
    max_upload_decoded_mb: float = Field(
        default=1024.0,
        gt=0,
        description="Largest decoded size of one Parquet file (checked from its metadata and "
        "dictionaries before its rows are built): a small file can decode to gigabytes.",
    )
    max_upload_depth: int = Field(
        default=32, ge=2, description="Deepest nesting of lists and objects in an uploaded record."
    )
    host: str = Field(default="127.0.0.1", description="Address `familiar serve` binds.")
    port: int = Field(default=8000, description="Port `familiar serve` binds.")
    demo: bool = Field(default=True, description="Create the demo project on first start.")
    demo_questions: int = Field(
        default=64,
        description="Questions in the demo project. The target answers every one of them "
        "(about 2 s each on one CPU core), so 64 keeps the first demo result within minutes.",
    )
    demo_lab_questions: int = Field(
        default=8,
        ge=0,
        le=64,
        description="Questions of the demo project's strategy lab run: after its first scan, "
        "the target answers them itself under four presets (no key, no server) and the "
        "recipes are scanned as strategies. 0 leaves the demo without a lab run.",
    )
    recommend_correct_margin: float = Field(
        default=10.0,
        ge=0.0,
        le=100.0,
        description="Correctness rule of the recommendation, in percentage points: where "
        "gold answers exist, a strategy whose share of correct answers is more than this "
        "below the best strategy's is ranked but never recommended (100 switches it off).",
    )
    job_stale_after_s: float = Field(
        default=120.0,
        description="A running job whose worker sent no heartbeat for this long is resumed "
        "by the next worker that starts.",
    )
    # issue 11: a dead worker shows as lost within a few heartbeats.
    job_heartbeat_s: float = Field(
        default=15.0,
        gt=0,
        description="How often a worker renews the lease of its running job (at most a "
        "quarter of JOB_STALE_AFTER_S). Pages show the job's worker as lost once 3 beats "
        "are missing, and at once when its process on this host is gone.",
    )
    queue_prefix: str = Field(
        default="familiar",
        pattern=r"^[A-Za-z0-9_.\-]{1,60}$",
        description="Prefix of the queue names (`<prefix>.gpu`, `<prefix>.cpu`) and of every "
        "Redis key the broker writes (`<prefix>:`): deployments or test runs that share one "
        "Redis never see each other's jobs, and removing `<prefix>:*` removes all of them.",
    )
    torch_threads: int | None = Field(
        default=None, description="Threads for torch in the worker (default: all cores)."
    )
    auth: Literal["auto", "single", "accounts"] = Field(
        default="auto",
        description="Who may use the app. `single`: one local user, no password (only on a "
        "loopback HOST). `accounts`: sign-in for every write; reading needs sign-in or a "
        "share link. `auto`: single when HOST is a loopback address, else accounts.",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Key that signs session cookies. Default: a random key created once in "
        "DATA_DIR/secret_key. Set it when several web processes serve the same site.",
    )
    session_max_age_days: float = Field(
        default=14.0, description="How long a sign-in (and a share-link grant) lasts."
    )
    cookie_secure: bool = Field(
        default=False,
        description="Send the session cookie over HTTPS only (set it behind a TLS proxy).",
    )
    # issue 12 (validation): where training checkpoints and adapters are written
    artifacts_dir: Path | None = Field(
        default=None,
        description="Folder for training checkpoints and adapters when ARTIFACT_ROOT is "
        "unset (and the folder whose absolute paths migration 0020 turned into artifact keys). "
        "Default: DATA_DIR/artifacts.",
    )
    # issue 20: artifacts any host can reach
    artifact_root: str | None = Field(
        default=None,
        description="Where adapters and checkpoints are stored, as a folder or URL that every "
        "web and worker host reaches: a local folder or shared mount (`/mnt/team/familiar`, "
        "`file:///...`), an S3-compatible bucket (`s3://bucket/prefix`, with the `s3` extra), "
        "any fsspec URL. Rows store keys relative to it. Default: ARTIFACTS_DIR.",
    )
    artifact_cache_dir: Path | None = Field(
        default=None,
        description="Local folder where a worker writes artifacts before uploading them to a "
        "remote ARTIFACT_ROOT and keeps the adapters it downloads (unused for a local root). "
        "Default: DATA_DIR/artifact-cache.",
    )
    artifact_s3_endpoint_url: str | None = Field(
        default=None,
        description="Endpoint of an S3-compatible store (MinIO, Ceph, R2...) for an `s3://` "
        "ARTIFACT_ROOT, e.g. http://minio:9000. Unset: AWS S3. Credentials come from the usual "
        "AWS variables or profile, or from ARTIFACT_STORAGE_OPTIONS.",
    )
    artifact_storage_options: dict[str, Any] = Field(
        default_factory=dict,
        description="Options for ARTIFACT_ROOT's fsspec filesystem, as a JSON object, e.g. "
        '`{"key": "...", "secret": "..."}` or `{"anon": true}` for s3fs.',
    )
    public_url: str | None = Field(
        default=None,
        description="Base URL written into share links, e.g. https://familiar.example.org. "
        "Default: the address the request came to.",
    )
    # issue 11: hosts, sign-in limits
    allowed_hosts: str = Field(
        default="",
        description="Extra host names the server answers to, comma-separated (`*.example.org` "
        "for subdomains, `*` for any). Always allowed: localhost, *.localhost, 127.0.0.1, "
        "[::1] and PUBLIC_URL's host. In accounts mode with neither set, any host is accepted.",
    )
    login_max_failures: int = Field(
        default=10,
        ge=1,
        description="Failed sign-ins per account within LOGIN_WINDOW_S "
        "before the account's sign-in answers 429 until the window has passed.",
    )
    login_max_failures_per_ip: int = Field(
        default=100,
        ge=1,
        description="Failed sign-ins per client address within "
        "LOGIN_WINDOW_S (high: a team behind one proxy shares an address).",
    )
    login_window_s: float = Field(
        default=900.0, gt=0, description="The window, in seconds, of the sign-in limits."
    )
    # issue 21 (strategy lab): teachers' API keys are stored encrypted with this key
    lab_secret_key: SecretStr | None = Field(
        default=None,
        description="Key that encrypts teachers' API keys in the database (any text; a "
        "Fernet key is derived from it with HKDF). Default: derived from SECRET_KEY (or its "
        "DATA_DIR/secret_key file). Set it to rotate SECRET_KEY without losing stored keys; "
        "changing it makes stored keys unreadable until they are entered again.",
    )
    lab_request_timeout_s: float = Field(
        default=120.0,
        gt=0,
        description="Strategy lab: the longest wait for one teacher request before it counts "
        "as timed out and is retried.",
    )
    lab_max_retries: int = Field(
        default=4,
        ge=0,
        le=20,
        description="Strategy lab: retries of one teacher request after a 429, a 5xx, a "
        "timeout, a dropped connection or a malformed body (with backoff, honouring "
        "Retry-After), before the answer is given up and named as a fault.",
    )
    password_hash_slots: int = Field(
        default=4,
        ge=1,
        description="Password checks (Argon2id, 64 MiB each) run at the same "
        "time per web process; more wait up to a second, then get 503 with Retry-After.",
    )
    # issue 20: the inference-server backend (`vllm` in app.backends)
    inference_url: str | None = Field(
        default=None,
        description="Base URL of an OpenAI-compatible inference server (vLLM) that runs the "
        "target for jobs whose backend is `vllm`, e.g. http://gpu-host:8000 (no /v1). "
        "Unset: the worker starts and manages its own vLLM server (VLLM_PYTHON, VLLM_*).",
    )
    inference_api_key: SecretStr | None = Field(
        default=None,
        description="Bearer key the inference server expects (vLLM's --api-key), if any.",
    )
    inference_model: str | None = Field(
        default=None,
        description="The name the server serves the target under (vLLM's "
        "--served-model-name). Default: the target's name as Familiar knows it.",
    )
    inference_dtype: Literal["bfloat16", "float32"] = Field(
        default="bfloat16",
        description="The dtype the server runs the target in (vLLM's --dtype): recorded in "
        "the model key and cache keys, so values from two dtypes never mix.",
    )
    inference_timeout_s: float = Field(
        default=600.0,
        gt=0,
        description="Longest wait for one request to the inference server (a slow or dead "
        "server fails the job after this).",
    )
    inference_concurrency: int = Field(
        default=64,
        ge=1,
        description="Requests in flight at once to the inference server (it batches them).",
    )
    # issue 20: vLLM servers that a GPU worker starts itself (workers/inference_server/managed.py)
    vllm_python: Path = Field(
        default=PROJECT_ROOT / ".venv-vllm" / "bin" / "python",
        description="Python of the virtual environment that has vLLM (`make` creates "
        "`.venv-vllm` under the project root); a managed server runs "
        "`<VLLM_PYTHON> -m vllm.entrypoints.openai.api_server`.",
    )
    vllm_tensor_parallel_size: int = Field(
        default=1,
        ge=1,
        description="GPUs a managed vLLM server spreads the target over "
        "(`--tensor-parallel-size`; ignored on a CPU).",
    )
    vllm_gpu_memory_utilization: float = Field(
        default=0.9,
        gt=0,
        le=1,
        description="Share of each GPU's memory a managed vLLM server reserves for weights "
        "and KV cache (`--gpu-memory-utilization`). To let training share the GPU with a "
        "running server (VLLM_KEEP_DURING_TRAINING), set it to at most 0.45: training then "
        "has the other half.",
    )
    vllm_keep_during_training: bool = Field(
        default=False,
        description="Keep a managed vLLM server running while a training job uses the same "
        "GPU (the two share it by VLLM_GPU_MEMORY_UTILIZATION). Off: training stops the "
        "managed servers first and the next inference job starts one again.",
    )
    vllm_max_model_len: int = Field(
        default=4096,
        ge=16,
        description="Longest prompt + answer, in tokens, a managed vLLM server accepts "
        "(`--max-model-len`; capped by the model's own limit).",
    )
    vllm_cpu_kvcache_gb: int = Field(
        default=1,
        ge=1,
        description="KV cache of a managed vLLM server on a CPU, in GiB "
        "(`VLLM_CPU_KVCACHE_SPACE`).",
    )
    vllm_idle_stop_s: float = Field(
        default=600.0,
        gt=0,
        description="A managed vLLM server that served no job for this long is stopped "
        "(it frees its GPU); the next job that needs it starts it again.",
    )
    vllm_start_timeout_s: float = Field(
        default=900.0,
        gt=0,
        description="How long a managed vLLM server may take to answer `GET /v1/models` "
        "after its start (about 100 s for the packaged model on 2 CPU cores) before it is "
        "stopped and the job fails with the last lines of its log.",
    )
    vllm_extra_args: str = Field(
        default="",
        description="More command-line arguments for a managed vLLM server, shell-quoted "
        "(e.g. `--max-lora-rank 64 --enforce-eager`).",
    )

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            url = self.database_url
            if url.startswith("postgresql://"):
                url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
            return url
        return f"sqlite:///{(self.data_dir / 'familiar.db').resolve()}"

    @property
    def models_dir(self) -> Path:
        return self.model_cache or (self.data_dir / "models")

    @property
    def artifacts_path(self) -> Path:
        return self.artifacts_dir or (self.data_dir / "artifacts")

    @property
    def artifact_root_url(self) -> str:
        return self.artifact_root or str(self.artifacts_path)

    @property
    def artifact_cache_path(self) -> Path:
        return self.artifact_cache_dir or (self.data_dir / "artifact-cache")

    @property
    def embedded_broker(self) -> bool:
        return not self.redis_url

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def max_request_bytes(self) -> int:
        return int(self.max_request_mb * 1024 * 1024)


@lru_cache
def get_settings() -> Settings:
    return Settings()
