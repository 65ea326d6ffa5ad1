"""Job definitions with the shapes of Nosana's own examples, for the tests.

Written here after the files named in each docstring (their repositories' example jobs and
documentation pages); the originals are not copied into this repository.
"""

from __future__ import annotations

# nosana-ci/nosana-cli, job-examples/hello-world.json
HELLO_WORLD = {
    "version": "0.1",
    "type": "container",
    "ops": [
        {"type": "container/run", "id": "hello-world", "args": {"cmd": ["echo", "hello", "world"], "image": "ubuntu"}}
    ],
}

# nosana-ci/nosana-cli, job-examples/count-multiple.json: two ungrouped ops, string cmds
COUNT_MULTIPLE = {
    "version": "0.1",
    "type": "container",
    "meta": {"trigger": "cli"},
    "ops": [
        {"type": "container/run", "id": f"count-{n}",
         "args": {"cmd": "for i in `seq 1 10`; do echo $i; sleep 1; done", "image": "ubuntu"}}
        for n in (1, 2)
    ],
}

# nosana-ci/nosana-cli, job-examples/job-definition.json: global work_dir and env, a volume
# made by container/create-volume and mounted by a later op
VOLUMES = {
    "version": "0.1",
    "type": "container",
    "meta": {"trigger": "cli"},
    "global": {"work_dir": "/home/", "env": {"DEBUG": "1"}},
    "ops": [
        {"type": "container/create-volume", "id": "create-volume", "args": {"name": "random-id-volume"}},
        {"type": "container/run", "id": "run-from-cli",
         "args": {"cmd": ["/bin/sh", "-c", "echo Hello World > /nosana/outputs/test.txt;", "ls /nosana/outputs;"],
                  "image": "ubuntu", "volumes": [{"name": "random-id-volume", "dest": "/nosana/outputs"}],
                  "work_dir": "/home/podman"}},
        {"type": "container/run", "id": "run-from-cli-2", "args": {"cmd": "echo Hello World; ls; pwd;", "image": "ubuntu"}},
    ],
}

# nosana-ci/nosana-cli, job-examples/restart-policy.json
RESTART_POLICY = {
    "version": "0.1",
    "type": "container",
    "meta": {"trigger": "cli"},
    "ops": [
        {"type": "container/run", "id": "restart-policy-test",
         "args": {"cmd": ["sh", "-c", "echo Starting; sleep 1; exit 1"],
                  "restart_policy": {"policy": "on-failure", "restart_tries": 3}, "image": "ubuntu"}}
    ],
}

# nosana-ci/nosana-cli, job-examples/result-extracting.json: string and object results,
# one of them ("throw-error") a deliberately broken regex that Nosana's node turns into
# an error string at run time; we refuse it before anything is posted.
RESULT_EXTRACTING = {
    "version": "0.1",
    "type": "container",
    "meta": {"trigger": "cli"},
    "ops": [
        {"type": "container/run", "id": "hello-world",
         "args": {"cmd": ["echo 'running ubuntu' && echo 'Device 0: NVIDIA GeForce RTX 3070' >>/dev/stderr"
                          " && echo 'Device 1: NVIDIA GeForce RTX 3080'"],
                  "entrypoint": ["sh", "-c"], "image": "ubuntu"},
         "results": {
             "detected-gpu-stderr": {"regex": "Device [0-9].*", "logType": ["stderr"]},
             "detected-gpu-all-std": "Device [0-9].*",
             "empty-result": "Missing",
             "throw-error": {"regex": "\\", "logType": ["stdout", "stderr"]},
         }}
    ],
}

# nosana-ci/nosana-kit, docs/jobs/job-definition/services.md ("Multi-Operations"): a
# service with a health-checked exposed port, and a second op depending on it
VLLM_OPEN_WEBUI = {
    "version": "0.1",
    "type": "container",
    "meta": {"trigger": "dashboard", "system_requirements": {"required_vram": 6}},
    "ops": [
        {"type": "container/run", "id": "vllm-server",
         "args": {"image": "vllm/vllm-openai:latest", "cmd": ["--model", "some/model", "--port", "9000"], "gpu": True,
                  "expose": [{"port": 9000, "health_checks": [{"type": "http", "path": "/v1/models", "method": "GET",
                                                                 "expected_status": 200, "continuous": True}]}]},
         "execution": {"group": "inference"}},
        {"type": "container/run", "id": "open-webui",
         "args": {"image": "ghcr.io/open-webui/open-webui:main",
                  "env": {"OPENAI_API_BASE_URL": "http://vllm-server:9000/v1"}, "expose": [8080]},
         "execution": {"group": "inference", "depends_on": ["vllm-server"]}},
    ],
}

# nosana-ci/nosana-kit, docs/jobs/job-definition/s3.md and huggingface.md: remote resources
RESOURCES = {
    "version": "0.1",
    "type": "container",
    "ops": [
        {"type": "container/run", "id": "ollama",
         "args": {"image": "docker.io/ollama/ollama", "gpu": True,
                  "resources": [{"type": "S3", "url": "s3://bucket/models", "target": "/root/.ollama/models"},
                                {"type": "HF", "repo": "TinyLlama/TinyLlama-1.1B-Chat-v1.0", "target": "/data-models/"}]}}
    ],
}

# nosana-ci/nosana-kit, docs/jobs/job-definition/literals.md ("Putting It All Together"):
# groups as stages, results wired into later ops by literals; the media ops name the story
# op (an earlier group) in depends_on, which is already satisfied by the stage order
STORY_PIPELINE = {
    "version": "0.1",
    "type": "container",
    "meta": {"trigger": "cli"},
    "ops": [
        {"type": "container/run", "id": "story",
         "args": {"image": "docker.io/ai-tools/story-gen:latest", "cmd": ["--length", "short"]},
         "results": {"title": "title=.*", "body": "body=.*", "slug": "slug=.*"},
         "execution": {"group": "story"}},
        {"type": "container/run", "id": "image",
         "args": {"image": "docker.io/ai-tools/image-gen:latest",
                  "cmd": ["--prompt", "Cover image for %%ops.story.results.title%%"]},
         "results": {"cover_path": ".*\\.png"},
         "execution": {"group": "media", "depends_on": ["story"]}},
        {"type": "container/run", "id": "video",
         "args": {"image": "docker.io/ai-tools/video-gen:latest",
                  "cmd": ["--script", "%%ops.story.results.body%%", "--title", "%%ops.story.results.title%%"]},
         "results": {"video_path": ".*\\.mp4"},
         "execution": {"group": "media", "depends_on": ["story"]}},
        {"type": "container/run", "id": "download",
         "args": {"image": "docker.io/library/alpine", "entrypoint": ["sh"],
                  "cmd": ["-c", "echo cover=%%ops.image.results.cover_path%%;", "echo video=%%ops.video.results.video_path%%"]},
         "results": {"dest": "uploaded=.*"},
         "execution": {"group": "download", "depends_on": []}},
    ],
}
