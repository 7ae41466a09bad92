#!/usr/bin/env python3
"""Drives the `rnn serve` web page in headless Chromium and takes screenshots.

Usage: scripts/browser_test.py URL [SCREENSHOT_DIR]
  URL: a running server, e.g. http://127.0.0.1:8080 (serving a classifier, a language model and
  a tagger). Needs Debian's `chromium` and `pip install websocket-client`.

Through the Chrome DevTools Protocol it opens the page, waits for the model cards, classifies a
review, asks for three jokes (streamed) and tags a sentence, checks what each panel shows, and
saves a screenshot after each step (page-*.png). Exit status 0 when every check passes.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import websocket  # pip install websocket-client


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Browser:
    def __init__(self):
        binary = shutil.which("chromium") or shutil.which("chromium-browser")
        if not binary:
            sys.exit("browser_test: chromium not found (apt-get install -y chromium)")
        self.profile = tempfile.mkdtemp(prefix="rnn-serve-chromium-")
        port = free_port()
        self.process = subprocess.Popen(
            [binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             f"--remote-debugging-port={port}", f"--user-data-dir={self.profile}",
             "--window-size=1280,1000", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 30
        while True:
            try:
                targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json"))
                page = next(t for t in targets if t["type"] == "page")
                break
            except Exception:
                if time.time() > deadline:
                    self.close()
                    sys.exit("browser_test: chromium did not start")
                time.sleep(0.2)
        self.socket = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=60)
        self.next_id = 0

    def call(self, method, **params):
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.1)
        raise TimeoutError(f"waited {timeout} s for {expression}")

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"]
        import base64
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
        print(f"screenshot {path}")

    def close(self):
        self.process.terminate()
        self.process.wait(timeout=10)
        shutil.rmtree(self.profile, ignore_errors=True)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    url = sys.argv[1].rstrip("/")
    out = sys.argv[2] if len(sys.argv) > 2 else "."
    os.makedirs(out, exist_ok=True)
    failures = []

    def check(condition, what):
        print(("ok   " if condition else "FAIL ") + what)
        if not condition:
            failures.append(what)

    browser = Browser()
    try:
        browser.call("Page.enable")
        browser.call("Page.navigate", url=url + "/")
        cards = browser.wait_for("document.querySelectorAll('.card').length")
        check(cards >= 1, f"{cards} model card(s) shown")
        tasks = browser.evaluate("[...document.querySelectorAll('section:not([hidden]) h2')].map(h => h.firstChild.textContent.trim())")
        print("panels:", tasks)
        browser.screenshot(os.path.join(out, "page-1-loaded.png"))

        if browser.evaluate("!document.getElementById('classify').hidden"):
            browser.evaluate("document.getElementById('review').value = 'A dreadful, boring film. The plot made no sense and the acting was awful. I want my money back.'")
            browser.evaluate("document.getElementById('classify-go').click()")
            label = browser.wait_for("document.getElementById('sentiment') && document.getElementById('sentiment').textContent")
            probability = float(browser.evaluate("document.getElementById('probability').textContent"))
            check(0.5 <= probability <= 1, f"review classified '{label}' with probability {probability:.3f}")
            browser.evaluate("document.getElementById('review').value = 'A wonderful, moving film with superb acting. One of the best of the year, I loved every minute.'")
            browser.evaluate("document.getElementById('sentiment').remove(); document.getElementById('classify-go').click()")
            positive = browser.wait_for("document.getElementById('sentiment') && document.getElementById('sentiment').textContent")
            check(positive != label, f"a glowing review gets the other label ('{positive}')")
            browser.screenshot(os.path.join(out, "page-2-classified.png"))

        if browser.evaluate("!document.getElementById('generate').hidden"):
            browser.evaluate("document.getElementById('prompt').value = 'why did the'")
            browser.evaluate("document.getElementById('generate-go').click()")
            browser.wait_for("document.getElementById('generate-go').disabled === false && document.querySelectorAll('.joke').length === 3", timeout=60)
            jokes = browser.evaluate("[...document.querySelectorAll('.joke')].map(j => j.textContent)")
            for joke in jokes:
                print("joke:", joke)
            check(len(jokes) == 3 and all(j.startswith("why did the") and len(j) > len("why did the") for j in jokes),
                  "three jokes, each continuing the three words")
            check(not browser.evaluate("document.querySelector('#generate-result .error')"), "no error while streaming")
            browser.screenshot(os.path.join(out, "page-3-jokes.png"))

        if browser.evaluate("!document.getElementById('tag').hidden"):
            browser.evaluate("document.getElementById('sentence').value = 'The dog chased a red ball in the park .'")
            browser.evaluate("document.getElementById('tag-go').click()")
            tags = browser.wait_for("document.querySelectorAll('#tag-result .tag').length")
            check(tags == 10, f"{tags} tagged words for 10 words")
            browser.screenshot(os.path.join(out, "page-4-tagged.png"))

        translate = browser.evaluate("document.getElementById('translate-result').textContent")
        print("translate panel:", translate)
        browser.evaluate("window.scrollTo(0, 0)")
        browser.screenshot(os.path.join(out, "page-5-all.png"))
    finally:
        browser.close()
    if failures:
        sys.exit(f"browser_test: {len(failures)} check(s) failed")
    print("browser_test: all checks passed")


if __name__ == "__main__":
    main()
