#!/usr/bin/env python3
"""A bridge between another messaging system and a switchboard API inbox.

It shows the two halves of an API inbox channel, with the standard library
only:

1. the customer's side goes IN through the Public client API (create the
   contact, open a conversation, post a message);
2. the agents' replies come OUT on the inbox's webhook_url, signed with the
   inbox's secret (X-Chatwoot-Signature, see docs/WEBHOOKS.md).

Run a server that may call back to this machine, then the bridge:

    cargo run -p switchboard-server -- serve --demo --outbound-allow-private
    python3 examples/api_bridge.py --url http://127.0.0.1:3000 \
        --token <an administrator's access token> --account-id 1

It creates an API inbox whose webhook_url points at itself, writes
"Hello from the bridge" as a new customer, and prints every agent reply
that arrives (answer it in the console at /app) until --wait runs out or
--replies replies have arrived. A real bridge would forward each reply to
the customer's own channel instead of printing it.
"""

import argparse
import hashlib
import hmac
import http.server
import json
import queue
import sys
import threading
import time
import urllib.request

replies: "queue.Queue[dict]" = queue.Queue()
SECRET = {"value": ""}


def call(method, url, body=None, token=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("api_access_token", token)
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"{}")


def signature_ok(headers, raw_body):
    timestamp = headers.get("X-Chatwoot-Timestamp", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > 300:
        return False
    mac = hmac.new(SECRET["value"].encode(), timestamp.encode() + b"." + raw_body, hashlib.sha256)
    return hmac.compare_digest("sha256=" + mac.hexdigest(), headers.get("X-Chatwoot-Signature", ""))


class Callbacks(http.server.BaseHTTPRequestHandler):
    seen = set()

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if not signature_ok(self.headers, raw):
            self.send_response(401)
            self.end_headers()
            return
        self.send_response(200)
        self.end_headers()
        delivery = self.headers.get("X-Chatwoot-Delivery")
        if delivery in self.seen:
            return  # a retry of something already handled
        self.seen.add(delivery)
        event = json.loads(raw)
        if event.get("event") == "message_created" and event.get("message_type") == "outgoing":
            replies.put(event)

    def log_message(self, *args):
        pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:3000")
    parser.add_argument("--token", required=True, help="an administrator's access token")
    parser.add_argument("--account-id", type=int, required=True)
    parser.add_argument("--listen", default="127.0.0.1:0", help="where callbacks arrive")
    parser.add_argument("--message", default="Hello from the bridge")
    parser.add_argument("--replies", type=int, default=1, help="stop after this many replies")
    parser.add_argument("--wait", type=float, default=300.0, help="seconds to wait for replies")
    args = parser.parse_args()

    host, port = args.listen.rsplit(":", 1)
    server = http.server.ThreadingHTTPServer((host, int(port)), Callbacks)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    callback = f"http://{host}:{server.server_address[1]}/switchboard"

    account = f"{args.url}/api/v1/accounts/{args.account_id}"
    inbox = call("POST", f"{account}/inboxes", {
        "name": "Bridge",
        "channel": {"type": "api", "webhook_url": callback},
    }, args.token)
    SECRET["value"] = inbox["secret"]
    public = f"{args.url}/public/api/v1/inboxes/{inbox['inbox_identifier']}"
    contact = call("POST", f"{public}/contacts", {"name": "Bridge customer"})
    source = contact["source_id"]
    conversation = call("POST", f"{public}/contacts/{source}/conversations", {})
    sent = call("POST", f"{public}/contacts/{source}/conversations/{conversation['id']}/messages",
                {"content": args.message})
    print(f"customer wrote in conversation {conversation['id']}: {sent['content']}", flush=True)

    deadline = time.time() + args.wait
    got = 0
    while got < args.replies:
        try:
            reply = replies.get(timeout=max(0.0, deadline - time.time()))
        except queue.Empty:
            print("no reply arrived in time", file=sys.stderr)
            return 1
        if reply["conversation"]["id"] != conversation["id"]:
            continue
        sender = (reply.get("sender") or {}).get("name", "agent")
        print(f"agent {sender} replied: {reply['content']}", flush=True)
        got += 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
