"""A minimal Language Server Protocol client that drives yaml-language-server as VS Code does:
over stdio, with the workspace's `.vscode/settings.json` as its `yaml` settings."""

from __future__ import annotations

import json
import queue
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
YAML_LANGUAGE_SERVER = REPO_ROOT / "node_modules" / ".bin" / "yaml-language-server"


def workspace_settings(folder: Path) -> dict[str, Any]:
    """The `yaml` section VS Code hands the server: `yaml.x` keys of the workspace settings."""
    path = folder / ".vscode" / "settings.json"
    settings = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    return {
        key[len("yaml.") :]: value for key, value in settings.items() if key.startswith("yaml.")
    }


class YamlLanguageServer:
    """yaml-language-server over stdio, opened on one workspace folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.settings = workspace_settings(folder)
        self.process = subprocess.Popen(
            [str(YAML_LANGUAGE_SERVER), "--stdio"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self.next_id = 0
        self.responses: dict[int, Any] = {}
        self.diagnostics: queue.Queue[dict[str, Any]] = queue.Queue()
        self.responded = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()
        root = folder.resolve().as_uri()
        self.request(
            "initialize",
            {
                "processId": None,
                "rootUri": root,
                "workspaceFolders": [{"uri": root, "name": folder.name}],
                "capabilities": {
                    "workspace": {"configuration": True, "workspaceFolders": True},
                    "textDocument": {
                        "publishDiagnostics": {},
                        "hover": {"contentFormat": ["markdown", "plaintext"]},
                    },
                },
            },
        )
        self.notify("initialized", {})
        self.notify("workspace/didChangeConfiguration", {"settings": {"yaml": self.settings}})

    def __enter__(self) -> YamlLanguageServer:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.request("shutdown", None, timeout=10)
            self.notify("exit", None)
            self.process.wait(timeout=10)
        except (OSError, TimeoutError, subprocess.TimeoutExpired):
            self.process.kill()

    def _send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        assert self.process.stdin is not None
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.process.stdin.flush()

    def _read(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        while True:
            headers = {}
            while (line := stream.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode().partition(":")
                headers[name.strip().lower()] = value.strip()
            if not headers:
                return
            message = json.loads(stream.read(int(headers["content-length"])))
            if "id" in message and "method" in message:  # a request from the server
                self._send({"id": message["id"], "result": self._answer(message)})
            elif "id" in message:
                with self.responded:
                    self.responses[message["id"]] = message
                    self.responded.notify_all()
            elif message.get("method") == "textDocument/publishDiagnostics":
                self.diagnostics.put(message["params"])

    def _answer(self, request: dict[str, Any]) -> Any:
        """Settings as VS Code gives them; nothing else the server asks for is needed."""
        if request["method"] == "workspace/configuration":
            sections = {"yaml": self.settings, "http": {}, "[yaml]": {}, "editor": {}}
            return [sections.get(item.get("section"), {}) for item in request["params"]["items"]]
        return None

    def notify(self, method: str, params: Any) -> None:
        self._send({"method": method, "params": params})

    def request(self, method: str, params: Any, timeout: float = 60) -> Any:
        self.next_id += 1
        number = self.next_id
        self._send({"id": number, "method": method, "params": params})
        deadline = time.monotonic() + timeout
        with self.responded:
            while number not in self.responses:
                if not self.responded.wait(max(0.0, deadline - time.monotonic())):
                    raise TimeoutError(f"{method}: no answer in {timeout} s")
        answer = self.responses.pop(number)
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        return answer.get("result")

    def _opened(self, path: Path, timeout: float = 60) -> tuple[str, list[dict[str, Any]]]:
        """Open `path` and wait for its diagnostics: then its schema is loaded and applied."""
        uri = path.resolve().as_uri()
        text = path.read_text(encoding="utf-8", errors="replace")
        document = {"uri": uri, "languageId": "yaml", "version": 1, "text": text}
        self.notify("textDocument/didOpen", {"textDocument": document})
        deadline = time.monotonic() + timeout
        while True:
            params = self.diagnostics.get(timeout=max(0.0, deadline - time.monotonic()))
            if params["uri"] == uri:
                return uri, params["diagnostics"]

    def _close(self, uri: str) -> None:
        self.notify("textDocument/didClose", {"textDocument": {"uri": uri}})

    def problems(self, path: Path) -> list[dict[str, Any]]:
        """The diagnostics the server publishes for `path` once opened: what the editor shows."""
        uri, diagnostics = self._opened(path)
        self._close(uri)
        return diagnostics

    def hover(self, path: Path, line: int, character: int) -> str:
        """The hover text at a 0-based position of `path`."""
        uri, _ = self._opened(path)
        result = self.request(
            "textDocument/hover",
            {"textDocument": {"uri": uri}, "position": {"line": line, "character": character}},
        )
        self._close(uri)
        contents = (result or {}).get("contents", "")
        return contents.get("value", "") if isinstance(contents, dict) else str(contents)
