"""Editors and notebooks: stubs that type-check for any spec, completion jedi can see, py.typed.

mypy runs once over a folder holding a stub and a user script per spec (planted errors
marked ``# planted``: each must be reported on its line, and nothing else anywhere); its cache
dir is kept between runs. pyright (basedpyright's wheel) checks the bundled spec's stub when
it is installed.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

import odm_dyn
from odm_dyn.api.load import load_api
from odm_dyn.cli.stubs import render_stub

VENDOR = Path(__file__).resolve().parents[2] / "shared" / "vendor" / "genestack-openapi-v1"
VENDOR_FILES = sorted(VENDOR.glob("*.yaml")) if VENDOR.is_dir() else []
EDITORS = Path(__file__).parent / "data" / "editors.yaml"
MYPY_CACHE = Path(tempfile.gettempdir()) / "odm_dyn-test-mypy-cache"


def run_mypy(folder: Path) -> list[str]:
    """mypy's error lines for every file of the folder, in one run."""
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(MYPY_CACHE), "--python-version", "3.10", "."],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert checked.returncode in (0, 1), checked.stdout + checked.stderr  # 2: mypy itself failed
    return [line for line in checked.stdout.splitlines() if ": error:" in line]


def planted_lines(script: str) -> set[int]:
    return {number for number, line in enumerate(script.splitlines(), 1) if line.endswith("# planted")}


def errors_by_file(errors: list[str]) -> dict[str, set[int]]:
    found: dict[str, set[int]] = {}
    for line in errors:
        name, number = line.split(":")[:2]
        found.setdefault(name, set()).add(int(number))
    return found


# --------------------------------------------------------------------------- a user script per spec


def _simple_operation(api: Any) -> Any:
    """An operation callable with strings only: required parameters are plain strings, no body."""
    for plan in api.plans.values():
        op = plan.op
        required = [p for p in op.parameters if p.required]
        plain = all(isinstance(p.schema, dict) and p.schema.get("type") == "string" for p in required)
        plain = plain and not any("enum" in p.schema for p in required)
        if plain and op.tags and (op.body is None or not op.body.required):
            return op
    return None


def _arguments(op: Any) -> str:
    positional = [f'"{p.name}-1"' for p in op.positional()]
    keyword = [f'{p.python_name}="x"' for p in op.parameters if p.required and p.location != "path"]
    return ", ".join(positional + keyword)


def user_script(api: Any, module: str) -> str:
    """Correct code over the spec's client, models and generated-client classes, and planted errors."""
    op = _simple_operation(api)
    model_name, model = next((n, m) for n, m in api.models.items() if n.isidentifier())
    tag_class = api.tag_class_name(op.tags[0])
    args = _arguments(op)
    lines = [
        "from typing import Any",
        f"from {module} import ApiClient, Client, Configuration, NotFoundException, RequestValidationError",
        f"from {module} import {model.__name__}, {tag_class}",
        'client = Client("http://127.0.0.1:1", token="t")',
        "try:",
        f"    result = client.{op.python_name}({args})",
        f"    code: int = client.{op.python_name}_with_http_info({args}).status_code",
        "except NotFoundException as error:",
        "    text: str | None = error.body",
        "    raw: bytes | None = error.raw_body",
        "except RequestValidationError as error:",
        "    rule: str | None = error.rule",
        f"model = {model.__name__}.from_dict({{}})",
        "data: dict[str, Any] = model.to_dict()",
        f"found: type[{model.__name__}] = client.models.{model_name}",
        'configuration = Configuration(host="http://x", proxy="http://p", verify_ssl=False, retries=2)',
        f"api = {tag_class}(ApiClient(configuration))",
        f"answer: bytes = api.{op.python_name}_without_preload_content({args}).data",
        "client.no_such_operation()  # planted",
        f'client.{op.python_name}({args}{", " if args else ""}_request_timeout="soon")  # planted',
        f"{model.__name__}.from_dict({{}}).no_such_field  # planted",
        'Configuration(hots="http://x")  # planted',
    ]
    if not model._open:
        lines.append(f"{model.__name__}(no_such_field=1)  # planted")
    return "\n".join(lines) + "\n"


@pytest.mark.skipif(not VENDOR_FILES, reason="the vendor's specs are not present")
def test_stubs_of_every_vendor_file_check_with_mypy(tmp_path):
    planted = {}
    for number, path in enumerate(VENDOR_FILES):
        module = f"stub_{number}_{re.sub(r'[^0-9A-Za-z]', '_', path.stem)}"
        api = load_api(path)
        (tmp_path / f"{module}.pyi").write_text(render_stub(api, path.name), encoding="utf-8")
        script = user_script(api, module)
        (tmp_path / f"use_{module}.py").write_text(script)
        planted[f"use_{module}.py"] = planted_lines(script)
    found = errors_by_file(run_mypy(tmp_path))
    assert not [name for name in found if name.endswith(".pyi")], found  # every stub is valid and consistent
    assert found == planted


# --------------------------------------------------------------------------- what a stub says


README_USE = """\
from typing import Literal
from odm_client import Client, NotFoundException, OdmError, TaskInfo

client = Client("http://127.0.0.1:1", token="t")
task = client.publish_all_studies(version_message="release 7")
done: TaskInfo = client.wait_for_task(task, timeout=600)
finished: bool = done.status in ("DONE", "FAILED")
status: Literal["DONE", "FAILED", "KILLED", "CREATED", "QUEUEING", "QUEUED", "STARTING", "RUNNING",
                "BLOCKED_BY_DEPENDENCY_FAILURE"] | None = done.status
again = client.tasks_api.get_task_info(task.id or "")
try:
    client.get_task_info("GSF000000")
except NotFoundException as error:
    reason: str | None = error.reason
except OdmError:
    pass
done.status = "DON"  # planted
client.wait_for_task(task.id)  # planted
"""

EDITORS_USE = """\
import datetime
from typing import Literal
from odm_editors import Client, Sample, Donor, Free, Client_

client = Client()
sample = client.get_sample("S1")
sid: str = sample.id
when: datetime.datetime = sample.collected_at
kind: Literal["blood", "tissue"] = sample.kind
donor: Donor | None = sample.donor
label = [a.label for a in sample.aliquots or []]
made = Sample(id="S2", kind="tissue", collected_at=datetime.datetime.now(datetime.timezone.utc), donor={"donorId": "d"})
made_too = Sample(id="S3", kind="blood", collected_at="2024-01-01T00:00:00Z", donor=Donor(donor_id="d"))
free = Free(anything=1, more="x")
other = Client_(name="a")
client.create_sample(body=made)
Sample(kind="bone")  # planted
count: int = sample.count  # planted
sample.str.upper()  # planted
Donor(donorid="d")  # planted
"""


def test_stub_of_the_bundled_spec_and_of_an_awkward_spec_check_with_mypy(tmp_path):
    (tmp_path / "odm_client.pyi").write_text(render_stub(load_api(None)), encoding="utf-8")
    (tmp_path / "odm_editors.pyi").write_text(render_stub(load_api(EDITORS)), encoding="utf-8")
    (tmp_path / "readme_use.py").write_text(README_USE)
    (tmp_path / "editors_use.py").write_text(EDITORS_USE)
    found = errors_by_file(run_mypy(tmp_path))
    assert found == {"readme_use.py": planted_lines(README_USE), "editors_use.py": planted_lines(EDITORS_USE)}


def test_stub_text_types_required_enum_and_date_fields_and_escapes_descriptions():
    text = render_stub(load_api(EDITORS))
    assert "    id: _b.str\n" in text and "    count: _b.int | None\n" in text
    assert "    kind: _t.Literal['blood', 'tissue']\n" in text
    assert "    collected_at: _dt.datetime\n" in text and "    received_on: _dt.date | None\n" in text
    assert "class Free:" in text and "def __init__(self, **fields: _t.Any)" in text
    assert "class Client_:" in text  # a schema named Client leaves the stub's Client alone
    assert "class NotFoundException(ApiException):" in text
    assert "class RequestTypeError(RequestValidationError, _b.TypeError):" in text
    compile(text, "stub.pyi", "exec")


PYRIGHT_USE = """\
from odm_client import Client, TaskInfo

client = Client("http://127.0.0.1:1", token="t")
task: TaskInfo = client.tasks_api.publish_all_studies(version_message="v")
done = client.wait_for_task(task, timeout=60)
print(done.status, done.to_dict())
client.get_task_info(123)
"""


def _pyright() -> str | None:
    for name in ("basedpyright", "pyright"):
        found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
        if found:
            return found
    return None


@pytest.mark.skipif(_pyright() is None, reason="neither basedpyright nor pyright is installed")
def test_stub_of_the_bundled_spec_checks_with_pyright(tmp_path):
    (tmp_path / "odm_client.pyi").write_text(render_stub(load_api(None)), encoding="utf-8")
    (tmp_path / "use.py").write_text(PYRIGHT_USE)
    (tmp_path / "pyrightconfig.json").write_text(json.dumps({"typeCheckingMode": "basic", "pythonVersion": "3.10"}))
    checked = subprocess.run(
        [str(_pyright()), "--outputjson", "."], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    report = json.loads(checked.stdout)
    errors = [d for d in report["generalDiagnostics"] if d["severity"] == "error"]
    assert [(Path(d["file"]).name, d["range"]["start"]["line"] + 1) for d in errors] == [("use.py", 7)], errors


# --------------------------------------------------------------------------- py.typed


def test_an_editable_install_gives_mypy_the_packages_types(tmp_path):
    """A throwaway environment holding only the path entry that ``make``'s editable install
    writes (compat mode: a .pth line, no import hook): mypy finds odm_dyn there, reads its
    py.typed, and checks a user's call against the real signature."""
    root = Path(odm_dyn.__file__).parent.parent
    assert (root / "odm_dyn" / "py.typed").is_file() and '"py.typed"' in (root / "pyproject.toml").read_text()
    assert "editable_mode=compat" in (root / "Makefile").read_text()
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "env")], check=True, timeout=120)
    site = next((tmp_path / "env" / "lib").glob("python3*/site-packages"))
    (site / "__editable__.odm_dyn.pth").write_text(f"{root}\n")
    (tmp_path / "use.py").write_text(
        "import odm_dyn\n"
        "client: odm_dyn.Client = odm_dyn.Client('http://x', token='t')\n"
        "odm_dyn.Client(hots='x')  # planted\n"
    )
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(MYPY_CACHE), "--python-version", "3.10"]
        + ["--python-executable", str(tmp_path / "env" / "bin" / "python"), "use.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        env={"PATH": "/usr/bin:/bin"},
    )
    errors = [line for line in checked.stdout.splitlines() if ": error:" in line]
    assert len(errors) == 1 and errors[0].startswith("use.py:3:") and '"hots"' in errors[0], checked.stdout


# --------------------------------------------------------------------------- completion (jedi)


jedi = pytest.importorskip("jedi")


@pytest.fixture(scope="module")
def namespace():
    return {"client": odm_dyn.Client("http://127.0.0.1:1")}


def test_jedi_completes_a_tag_group(namespace):
    names = [c.name for c in jedi.Interpreter("client.tasks_api.", [namespace]).complete()]
    assert {"get_task_info", "publish_all_studies", "get_task_info_with_http_info"} <= set(names)


def test_jedi_completes_model_names(namespace):
    names = [c.name for c in jedi.Interpreter("client.models.Ta", [namespace]).complete()]
    assert names == ["TaskInfo"]


def test_jedi_shows_a_methods_signature(namespace):
    signatures = jedi.Interpreter("client.tasks_api.get_task_info(", [namespace]).get_signatures()
    assert [s.name for s in signatures] == ["get_task_info"]
    assert [p.name for p in signatures[0].params][:2] == ["id", "_request_timeout"]


def test_tag_groups_and_models_are_plain_attributes(namespace):
    client = namespace["client"]
    assert "tasks_api" in vars(client) and "TaskInfo" in vars(type(client.models))
    assert client.tasks_api is client.tasks_api
    with pytest.raises(AttributeError, match="no schema 'Nope'"):
        client.models.Nope  # noqa: B018


@pytest.mark.parametrize("use_jedi", [True, False], ids=["jedi", "ipython-limited-evaluation"])
def test_ipython_completes_tag_groups_and_models(namespace, use_jedi, tmp_path, monkeypatch):
    """IPython's completer, with jedi and with its own (which evaluates no property)."""
    pytest.importorskip("IPython")
    from IPython.core.completer import provisionalcompleter
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    monkeypatch.setenv("IPYTHONDIR", str(tmp_path))  # its profile folder goes there
    config = Config()
    config.HistoryManager.enabled = False  # no history database (nor its writer thread)
    shell = InteractiveShell.instance(config=config)
    try:
        shell.Completer.use_jedi = use_jedi
        shell.user_ns["client"] = namespace["client"]

        def complete(text: str) -> list[str]:
            with provisionalcompleter():
                return [c.text.lstrip(".") for c in shell.Completer.completions(text, len(text))]

        assert "get_task_info" in complete("client.tasks_api.")
        assert complete("client.models.Ta") == ["TaskInfo"]
    finally:
        InteractiveShell.clear_instance()
