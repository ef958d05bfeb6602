"""systemd units and drop-ins: `ExecStart=` with the `[Service]` section's `Environment=` (as systemd reads them)."""

from __future__ import annotations


def test_a_drop_in_that_binds_ollama_to_every_interface(scan_tree):
    # Ollama's documented way to expose it: `systemctl edit ollama.service`
    files = {"etc/systemd/system/ollama.service.d/override.conf": '[Service]\nEnvironment="OLLAMA_HOST=0.0.0.0:11434"\n'}
    scan = scan_tree(files, select="services")
    assert scan.hits == [("SVC001", "etc/systemd/system/ollama.service.d/override.conf", 2, 26)]
    assert "OLLAMA_HOST=0.0.0.0:11434" in scan.messages("SVC001")[0]


def test_a_unit_with_several_assignments_on_one_line_and_a_continued_exec_start(scan_tree):
    unit = (
        "[Unit]\n"
        "Description=MLflow and Ollama\n"
        "[Service]\n"
        "Environment=MLFLOW_TRACKING_URI=file:///srv/mlruns\n"
        "ExecStart=-/opt/venv/bin/mlflow server \\\n"
        "    --host 0.0.0.0 --port 5000\n"  # line 6: the bind flag, on the continuation line
        "[Install]\n"
        "WantedBy=multi-user.target\n"
    )
    ollama = '[Service]\nEnvironment="OLLAMA_ORIGINS=*" OLLAMA_KEEP_ALIVE=5m\nExecStart=/usr/local/bin/ollama serve\n'
    scan = scan_tree({"deploy/mlflow.service": unit, "deploy/ollama.service": ollama}, select="services")
    assert scan.hits == [("SVC001", "deploy/mlflow.service", 6, 12), ("SVC004", "deploy/ollama.service", 2, 29)]


def test_loopback_other_sections_comments_and_other_programs_are_not_reported(scan_tree):
    files = {
        "a/ollama.service": '[Service]\nEnvironment="OLLAMA_HOST=127.0.0.1:11434"\nExecStart=/usr/local/bin/ollama serve\n',
        "b/ollama.service": "[Service]\n#Environment=OLLAMA_HOST=0.0.0.0\nExecStart=/usr/local/bin/ollama serve\n",
        "c/ollama.service": "[Unit]\nEnvironment=OLLAMA_HOST=0.0.0.0\n[Service]\nExecStart=/usr/local/bin/ollama serve\n",
        "d/web.service": "[Service]\nEnvironment=HOST=0.0.0.0 PORT=3000\nExecStart=/usr/bin/node server.js\n",
        "e/notes.conf": "[Service]\nEnvironment=OLLAMA_HOST=0.0.0.0\n",  # not in a `.service.d` folder: not a drop-in
    }
    scan = scan_tree(files, select="services")
    assert scan.hits == []
    assert scan.errors == []


def test_an_empty_assignment_resets_the_list_as_systemd_does(scan_tree):
    files = {
        # the environment reset after the bind: Ollama listens where it does by default (loopback)
        "a/ollama.service": '[Service]\nEnvironment="OLLAMA_HOST=0.0.0.0"\nEnvironment=\nExecStart=/usr/local/bin/ollama serve\n',
        # a drop-in replacing the command: only the new one runs
        "b/mlflow.service.d/override.conf": (
            "[Service]\nExecStart=\nExecStart=/opt/venv/bin/mlflow server --host 0.0.0.0 --port 5001\n"
            "ExecStart=\nExecStart=/opt/venv/bin/mlflow server --host 0.0.0.0\n"  # line 5
        ),
    }
    scan = scan_tree(files, select="services")
    assert scan.hits == [("SVC001", "b/mlflow.service.d/override.conf", 5, 46)]
