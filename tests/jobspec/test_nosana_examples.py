"""Every file of Nosana's job-examples/ (nosana-ci/nosana-cli), by shape: what `crowd job
validate` says of each, and why.

The shapes are written here after each file (same structure and fields, shorter strings;
the originals are not copied). Expected: every file is accepted except those whose
`resources` carry credentials, registry credentials, Nosana's
confidential `logistics`, the unimplemented `output` folder, an unknown schema version,
or a regex that is broken on purpose. client/jobspec/README.md lists the same verdicts.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from crowdcompute.client.jobspec import ValidationError, parse, plan
from crowdcompute.client.jobspec.loader import loads

HTTP_ROOT = {"type": "http", "path": "/", "method": "GET", "expected_status": 200}
S3 = {"type": "S3", "url": "s3://bucket/models", "target": "/root/models/"}
HF = {"type": "HF", "repo": "Org/Model", "target": "/data-models/"}


def run(op_id: str, **args: Any) -> dict:
    execution = args.pop("execution", None)
    results = args.pop("results", None)
    op: dict = {"type": "container/run", "id": op_id, "args": {"image": "ubuntu", **args}}
    if results is not None:
        op["results"] = results
    if execution is not None:
        op["execution"] = execution
    return op


def job(*ops: dict, **top: Any) -> dict:
    return {"version": "0.1", "type": "container", "meta": {"trigger": "cli"}, "ops": list(ops), **top}


EXAMPLES: dict[str, dict] = {
    "auto.json": job(run("automatic1111", cmd=["/bin/sh", "-c", "python -u launch.py --listen --port 7860"],
                         gpu=True, image="nosana/automatic1111:0.0.2", expose=7860, resources=[S3])),
    "benchmark-gpu.json": job(run("gpu-stats", cmd=["./cuda_check"], image="registry.hub.docker.com/nosana/stats:v1.0.7",
                                  env={"DEBUG": "1"}, gpu=True)),
    "benchmark.json": job(*[run(name, cmd=f"{name} check;", image="registry.hub.docker.com/nosana/stats",
                                env={"DEBUG": "1"}) for name in ("cpu", "ram", "disk-space", "country", "bandwidth")],
                          run("gpu", cmd="nvidia-smi -L;", image="registry.hub.docker.com/nosana/stats",
                              env={"DEBUG": "1"}, gpu=True)),
    "confidential-tests/api-invalid.json": {
        "version": "0.1", "type": "container",
        "logistics": {"send": {"type": "api", "args": {"endpoint": "http://localhost/def"}},
                      "receive": {"type": "api", "args": {"endpoint": "http://localhost/res"}}},
        "ops": []},
    "confidential.json": job(logistics={"send": {"type": "api", "args": {"endpoint": "https://ipfs.example/Qm"}},
                                        "receive": {"type": "api-listen", "args": {}}}),
    "count-multiple.json": job(*[run(f"count-{n}", cmd="for i in `seq 1 10`; do echo $i; sleep 1; done")
                                 for n in (1, 2)]),
    "count.json": job(run("run-from-cli", cmd="for i in `seq 1 10`; do echo $i; sleep 1; done")),
    "gpu.json": job(run("gpu", cmd=["nvidia-smi -L"], gpu=True)),
    "hello-world.json": {"version": "0.1", "type": "container",
                         "ops": [run("hello-world", cmd=["echo", "hello", "world"])]},
    "job-definition.json": job(
        {"type": "container/create-volume", "id": "create-volume", "args": {"name": "random-id-volume"}},
        run("run-from-cli", cmd=["/bin/sh", "-c", "echo Hello > /nosana/outputs/test.txt;", "ls;"],
            volumes=[{"name": "random-id-volume", "dest": "/nosana/outputs"}], work_dir="/home/podman"),
        run("run-from-cli-2", cmd="echo Hello World; ls; pwd;"),
        **{"global": {"work_dir": "/home/", "env": {"DEBUG": "1"}}}),
    "job-literals.json": {
        "global": {"variables": {"MODEL": "org/model"}},
        "ops": [
            run("literal-setter", cmd=["echo 'host: %%global.host%%' && echo 'cmd: %%global.variables.MODEL%%'"],
                entrypoint=["bash", "-c"],
                results={key: f"(?<={key}: ).*" for key in ("cmd", "port", "image", "env_json", "entrypoint",
                                                            "expose_json", "resources_json", "template_id")},
                execution={"group": "pre"}),
            {"id": "run-selected-job", "type": "container/run", "execution": {"group": "main"},
             "args": {"cmd": ["hello", "%%ops.literal-setter.results.cmd%%", "test test"],
                      "env": {"Random_Var": "static_value", "__spread__": "%%ops.literal-setter.results.env_json%%"},
                      "gpu": True, "image": "ubuntu",
                      "expose": [1000, {"__spread__": "%%ops.literal-setter.results.expose_json%%"}],
                      "entrypoint": ["__remove-if-empty__", "%%ops.literal-setter.results.entrypoint%%"],
                      "resources": [{"__spread__": "%%ops.literal-setter.results.resources_json%%"},
                                    {"type": "S3", "url": "https://models.example/test", "target": "/data-models/"}]}},
        ],
        "version": "0.1", "type": "container"},
    "jupyter-notebook.json": job(run("jupyter-notebook", cmd=["bash", "-c", "jupyter notebook --ip 0.0.0.0"],
                                     expose=8888, image="docker.io/tensorflow/tensorflow:2.17.0-gpu-jupyter", gpu=True)),
    "kandinsky.json": job(run("run-kandinsky2", cmd=[], image="r8.im/kasumi-1/kandinsky-2@sha256:" + "3" * 64,
                              gpu=True, expose=5000)),
    "llama2.json": {**job(run("llama2", cmd=["python3 llama2.py 'What colour is the sky?'"], gpu=True,
                              results={"cuda-devices-found": "Device [0-9].+?(?=,)",
                                       "llama2-response": {"regex": "(?<=A:  \\[\\/INST\\]  )(.*)(?=',)",
                                                           "logType": ["stdout"]}})),
                    "version": "0.0.1"},
    "nginx-multi-ops.json": job(
        run("nginx-1", cmd=[], image="nginx", expose=[{"port": 80, "health_checks": [{**HTTP_ROOT, "continuous": True}]}],
            execution={"group": "run"}),
        run("nginx-2", cmd=[], image="nginx", expose=[{"port": 80, "health_checks": [{**HTTP_ROOT, "continuous": True}]}],
            execution={"group": "run", "depends_on": ["nginx-1"]}),
        run("nginx-3", cmd=[], image="nginx", expose=[{"port": 80, "health_checks": [{**HTTP_ROOT, "continuous": True}]}],
            execution={"group": "run2", "depends_on": []})),
    "nginx-multiple-expose.json": job(run("nosana-chat-bot", cmd=["-c", "lmdeploy serve api_server ./models & npm start"],
                                          gpu=True, image="docker.io/nosana/nosana-chat-bot:0.1.1",
                                          expose=[{"port": 3000}, {"port": 2333}], resources=[S3]),
                                      meta={"trigger": "dashboard", "system_requirements": {"required_vram": 44}}),
    "nginx.json": job(run("nginx", cmd=[], image="nginx",
                          expose=[{"port": 80, "health_checks": [{**HTTP_ROOT, "continuous": True}]}]),
                      deployment_id="Deployment Id"),
    "nosana-chat-bot.json": job(run("nosana-chat-bot", image="nosana/nosana-chat-bot:0.1.0",
                                    cmd=["-c", "lmdeploy serve api_server ../models & npm start"], gpu=True,
                                    expose=3000, resources=[S3])),
    "ollama-70b.json": job(run("ollama", cmd=[], image="docker.io/ollama/ollama", gpu=True, expose=11434, resources=[S3])),
    "ollama.json": job(run("ollama", cmd=[], image="docker.io/ollama/ollama", gpu=False, expose=11434, resources=[S3])),
    "open-ai-chat-ui.json": job(run("open-ai-chat-ui", cmd=[], image="docker.io/someone/open-ai-chat-ui:0.0.2",
                                    expose=3000)),
    "open-webui.json": job(run("open-webui", cmd=[], env={"WEBUI_AUTH": "False", "WEBUI_NAME": "Nosana Chat"},
                               image="ghcr.io/open-webui/open-webui:ollama", gpu=True, expose=8080)),
    "output.json": job(run("test-output-folder", cmd="echo test-output > /output/file.txt", output="/output")),
    "private-docker.json": job(run("hello-world", cmd="echo hello world",
                                   authentication={"docker": {"username": "", "password": ""}})),
    "resource-test-files/huggingface-files.json": job(run("huggingface", cmd=["ls", "-lh", "/data-models/"], gpu=True,
                                                          resources=[{**HF, "files": ["model.safetensors"]}])),
    "resource-test-files/huggingface.json": job(run("huggingface", cmd=["ls", "/data-models"], gpu=True, resources=[HF])),
    "resource-test-files/ollama.json": {"version": "0.1", "type": "container",
                                        "ops": [run("ollama", gpu=True, image="docker.io/ollama/ollama:0.12.0",
                                                    expose=11434, resources=[{"type": "Ollama", "model": "tinyllama"}])]},
    "resource-test-files/s3-base.json": job(run("huggingface", cmd=["ls", "/data-models"], gpu=True,
                                                resources=[{**S3, "url": "https://models.example/test"}])),
    "resource-test-files/s3-bucket.json": job(run("huggingface", cmd=["ls", "/data-models"], gpu=True, resources=[
        {**S3, "bucket": "ai-model", "IAM": {"REGION": "", "ACCESS_KEY_ID": "", "SECRET_ACCESS_KEY": ""}}])),
    "resource-test-files/s3-files.json": job(run("huggingface", cmd=["ls", "/data-models"], gpu=True,
                                                 resources=[{**S3, "files": ["control.safetensors"]}])),
    "resource-test-files/test-larger-file.json": job(run("test-larger-model", cmd=["ls", "-lh", "/models/"],
                                                         resources=[{**HF, "files": ["split/model.safetensors"]}])),
    "resource-test-files/test-small-resource.json": job(run("test-vae", cmd=["ls", "-lh", "/models/vae/"],
                                                            resources=[{**HF, "files": ["split/vae.safetensors"]}])),
    "resource-test-files/wan-comfyui.json": {"version": "0.1", "type": "container",
                                             "ops": [run("WAN22-comfy", image="docker.io/nosana/comfyui:2.0.8",
                                                         expose=8188, gpu=True, resources=[{**HF, "target": f"/comfyui/models/{kind}/"}
                                                                    for kind in ("text_encoders", "vae", "diffusion_models", "loras")])]},
    "restart-policy.json": job(run("restart-policy-test", cmd=["sh", "-c", "echo Starting; sleep 10; exit 1"],
                                   restart_policy={"policy": "on-failure", "restart_tries": 3})),
    "result-extracting.json": job(run("hello-world", cmd=["echo 'Device 0: NVIDIA' >>/dev/stderr"],
                                      entrypoint=["sh", "-c"],
                                      results={"detected-gpu-stderr": {"regex": "Device [0-9].*", "logType": ["stderr"]},
                                               "detected-gpu-all-std": "Device [0-9].*",
                                               "empty-result": "Missing",
                                               "throw-error": {"regex": "\\", "logType": ["stdout", "stderr"]}})),
    "sogni-ai.json": job(run("sogni-ai", cmd=["ls /data-models/ControlNet"], env={}, gpu=True, expose=8000,
                             resources=[{**S3, "files": ["a.safetensors", "b.safetensors"], "allowWrite": True}])),
    "stable-diffusion.json": job(run("run-stablediffusion", cmd="python main.py --o /nosana-ci/outputs --p \"GPUs\"",
                                     image="docker.io/nosana/stable-diffusion:latest", gpu=True,
                                     output="/nosana-ci/outputs")),
    "test-node-server.json": job(run("test-node-server", cmd=[], image="localhost/test-node-server:latest",
                                     expose=[{"port": 8080, "health_checks": [HTTP_ROOT]},
                                             {"port": 9090, "health_checks": [HTTP_ROOT]}])),
    "tinyllama.json": job(run("tinyllama", cmd="'There once was a hawk called Vicky'",
                              image="docker.io/jeisses/tinyllama:v2", gpu=True)),
    "vllm.json": job(run("VLLM-llama3.1", cmd=["--model", "/root/.cache/model", "--served-model-name", "llama3.1"],
                         image="docker.io/vllm/vllm-openai:v0.7.2", gpu=True, expose=8000, resources=[S3])),
    "volume-demo-test.json": job(run("run-from-cli", image="localhost/volume-demo:latest",
                                     resources=[{**S3, "url": "https://models.example/test", "target": "/test"}])),
    "whisper.json": job(run("run-whisper", cmd="python openai-whisper.py -p hello.mp3",
                            image="docker.io/nosana/whisper:latest", gpu=True)),
}

# yaml/nginx-multi-ops.yaml: the same job as nginx-multi-ops.json, written in YAML
NGINX_MULTI_OPS_YAML = """\
version: "0.1"
type: container
meta:
  trigger: cli
ops:
""" + "".join(
    f"""\
  - type: container/run
    id: nginx-{n}
    args:
      cmd: []
      image: nginx
      expose:
        - port: 80
          health_checks:
            - type: http
              path: /
              method: GET
              expected_status: 200
              continuous: true
    execution:
      group: {group}
{deps}"""
    for n, group, deps in ((1, "run", ""), (2, "run", "      depends_on:\n        - nginx-1\n"),
                           (3, "run2", "      depends_on: []\n"))
)

S3_CREDENTIALS = "not supported: credentials would be public"
S3_BUCKET = "not supported: the bucket is part of `url`"
CREDENTIALS = "not supported: registry credentials would be public"
LOGISTICS = "not supported: definitions and results travel through content-addressed storage"
OUTPUT = "not supported: Nosana's artifact upload"

# file -> [(path, start of the message)] of each problem; [] = accepted
REFUSED: dict[str, list[tuple[str, str]]] = {
    "confidential-tests/api-invalid.json": [("logistics", LOGISTICS), ("ops", "expected at least one operation")],
    "confidential.json": [("logistics", LOGISTICS), ("ops", "expected at least one operation")],
    "output.json": [("ops[0].args.output", OUTPUT)],
    "private-docker.json": [("ops[0].args.authentication", CREDENTIALS)],
    "resource-test-files/s3-bucket.json": [("ops[0].args.resources[0].bucket", S3_BUCKET),
                                           ("ops[0].args.resources[0].IAM", S3_CREDENTIALS)],
    "result-extracting.json": [("ops[0].results.throw-error.regex", "invalid regular expression: trailing \\")],
    "stable-diffusion.json": [("ops[0].args.output", OUTPUT)],
}
SERVICES = {"job-literals.json", "jupyter-notebook.json", "kandinsky.json", "nginx-multi-ops.json", "nginx.json", "open-ai-chat-ui.json",
            "open-webui.json", "test-node-server.json",
            # services with resources (downloaded by the node before they start)
            "auto.json", "nginx-multiple-expose.json", "nosana-chat-bot.json", "ollama-70b.json", "ollama.json",
            "resource-test-files/ollama.json", "resource-test-files/wan-comfyui.json", "sogni-ai.json", "vllm.json"}


def verdict(obj: Any) -> list[tuple[str, str]]:
    try:
        parse(obj)
    except ValidationError as exc:
        return [(p.path, p.message) for p in exc.problems]
    return []


def test_every_example_file_has_a_shape_here():
    assert len(EXAMPLES) + 1 == 43  # + yaml/nginx-multi-ops.yaml: the 43 files of job-examples/


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_each_example_is_accepted_or_refused_for_its_reason(name):
    got = verdict(EXAMPLES[name])
    expected = REFUSED.get(name, [])
    assert [path for path, _ in got] == [path for path, _ in expected], got
    for (_, message), (_, start) in zip(got, expected):
        assert message.startswith(start), message


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_the_accepted_services_expose_their_ports(name):
    d = parse(EXAMPLES[name])
    assert d.is_service and not d.needs_egress
    assert all(1 <= p.port <= 65535 for op in d.ops if op.is_service for p in op.args.expose)


def test_accepted_batch_examples_are_not_services():
    batch = [name for name in EXAMPLES if name not in SERVICES and name not in REFUSED]
    assert batch and not any(parse(EXAMPLES[name]).is_service for name in batch)


def test_the_yaml_multi_ops_file_matches_its_json_twin():
    from_yaml = parse(loads(NGINX_MULTI_OPS_YAML.encode(), name="nginx-multi-ops.yaml", fmt="yaml"))
    assert from_yaml.ops == parse(EXAMPLES["nginx-multi-ops.json"]).ops


def test_multi_ops_dependent_waits_for_the_first_healthy_check():
    d = parse(EXAMPLES["nginx-multi-ops.json"])
    run_stage, run2 = plan(d)
    assert [op.id for op in run_stage.ready(ended=())] == ["nginx-1"]
    assert [op.id for op in run_stage.ready(ended=(), up={"nginx-1"})] == ["nginx-1", "nginx-2"]
    assert [op.id for op in run2.ops] == ["nginx-3"]
    check = d.op("nginx-2").args.expose[0].health_checks[0]
    assert (check.type, check.path, check.method, check.expected_status, check.continuous) == ("http", "/", "GET", 200, True)


def test_checks_without_continuous_are_startup_only():
    d = parse(EXAMPLES["test-node-server.json"])
    ports = d.ops[0].args.expose
    assert [p.port for p in ports] == [8080, 9090]
    assert all(not c.continuous for p in ports for c in p.health_checks)


def test_a_bare_port_has_nosanas_default_type_and_no_checks():
    (port,) = parse(EXAMPLES["jupyter-notebook.json"]).ops[0].args.expose
    assert (port.port, port.type, port.health_checks) == (8888, "none", ())


def test_the_literals_example_keeps_its_spread_expose_and_resources_for_run_time():
    d = parse(EXAMPLES["job-literals.json"])
    op = d.op("run-selected-job")
    assert [p.port for p in op.args.expose] == [1000]
    assert op.args.expose_literals == ("%%ops.literal-setter.results.expose_json%%",)
    assert op.is_service and d.is_service
    (written,) = op.args.resources  # the S3 item as written: fetched at the job's start
    assert (written.url, written.target) == ("https://models.example/test", "/data-models")
    (later,) = op.args.resource_literals  # the spread: read when the op starts
    assert (later.at, later.spread) == (0, "%%ops.literal-setter.results.resources_json%%")


def test_the_sogni_example_asks_for_a_writable_copy():
    (resource,) = parse(EXAMPLES["sogni-ai.json"]).ops[0].args.resources
    assert resource.allow_write and resource.files == ("a.safetensors", "b.safetensors")


# The real files, when this machine has a snapshot of Nosana's repository (never copied
# into ours): each must get the verdict its shape gets above.
NOSANA_CLI = Path("/work/.mirror/nosana-ci+nosana-cli/repo")


@pytest.mark.skipif(not NOSANA_CLI.is_dir(), reason="no snapshot of nosana-ci/nosana-cli on this machine")
@pytest.mark.parametrize("name", sorted([*EXAMPLES, "yaml/nginx-multi-ops.yaml"]))
def test_the_real_file_gets_the_same_verdict(name):
    show = subprocess.run(["git", "-C", str(NOSANA_CLI), "show", f"HEAD:job-examples/{name}"], capture_output=True)
    if show.returncode:
        pytest.skip(f"{name} is not in this snapshot")
    obj = loads(show.stdout, name=name, fmt="yaml" if name.endswith(".yaml") else "json")
    assert [path for path, _ in verdict(obj)] == [path for path, _ in REFUSED.get(name, [])]
