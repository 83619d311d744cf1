"""sherd_data.Gateway against a scripted HTTP server on 127.0.0.1: retries 429 and 503 honouring
Retry-After, raises every other error with its URL and status. Prints a JSON report."""
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, sys.argv[1])
from sherd_data import Gateway, SherdHTTPError  # noqa: E402

answers = {  # path -> the statuses it answers with, in turn (then 200)
    "/datasets/d/busy": [(503, {"Retry-After": "2"}), (429, {"Retry-After": "Thu, 01 Jan 1970 00:00:00 GMT"}), (502, {})],
    "/datasets/d/gone": [(404, {})] * 10,
    "/datasets/d/down": [(503, {"Retry-After": "1"})] * 10,
}
seen = []


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        seen.append(self.path)
        queue = answers.get(self.path, [])
        status, headers = queue.pop(0) if queue else (200, {})
        body = b"payload" if status == 200 else json.dumps({"error": "x", "message": f"scripted {status}"}).encode()
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
sleeps = []
gateway = Gateway(f"http://127.0.0.1:{server.server_port}", retries=3, backoff=0.5, sleep=sleeps.append)
report = {}
with gateway.open(gateway.file_url("d", "busy")) as response:
    report["busy"] = [response.status, response.read().decode(), sleeps[:]]
for name in ("gone", "down"):
    sleeps.clear()
    try:
        gateway.open(gateway.file_url("d", name))
        report[name] = "no error"
    except SherdHTTPError as error:
        report[name] = [str(error), error.status, sleeps[:]]
try:
    Gateway("ftp://x")
except ValueError as error:
    report["badUrl"] = str(error)
server.shutdown()
print(json.dumps(report))
