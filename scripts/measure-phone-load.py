#!/usr/bin/env python3
"""Time from navigation until the menu is usable (dishes on screen) on a phone over a throttled
network, in headless Chromium through ChromeDriver's W3C API and Chrome DevTools throttling.

    scripts/measure-phone-load.py http://127.0.0.1:8080/t/<token>   # a running server

Prints cold and warm (cached assets) timings for Fast 3G and Slow 4G-like profiles. Loopback only.
"""
import json, socket, subprocess, sys, tempfile, time, urllib.request

PROFILES = {  # name: (latency ms, download bytes/s, upload bytes/s), Chrome DevTools presets
    "Fast 3G": (562.5, 1.6e6 / 8 * 0.9, 750e3 / 8 * 0.9),
    "Slow 4G": (150, 4e6 / 8, 3e6 / 8),
}

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close(); return port

def call(base, method, path, body=None):
    req = urllib.request.Request(base + path, method=method, data=None if body is None else json.dumps(body).encode(),
                                 headers={"content-type": "application/json"})
    return json.load(urllib.request.urlopen(req, timeout=60))

def main(url):
    port = free_port()
    driver = subprocess.Popen(["/usr/bin/chromedriver", f"--port={port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try: call(base, "GET", "/status"); break
            except Exception: time.sleep(0.1)
        profile = tempfile.mkdtemp()
        caps = {"capabilities": {"alwaysMatch": {"browserName": "chrome", "pageLoadStrategy": "none", "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}"],
            "mobileEmulation": {"deviceMetrics": {"width": 390, "height": 844, "pixelRatio": 2.0}}}}}}
        session = call(base, "POST", "/session", caps)["value"]["sessionId"]
        s = f"/session/{session}"
        cdp = lambda cmd, params: call(base, "POST", f"{s}/goog/cdp/execute", {"cmd": cmd, "params": params})
        probe = {"script": "return document.querySelectorAll('[data-dish-id]').length > 0", "args": []}
        cdp("Network.enable", {})
        for name, (latency, down, up) in PROFILES.items():
            cdp("Network.emulateNetworkConditions", {"offline": False, "latency": latency, "downloadThroughput": down, "uploadThroughput": up})
            for run in ("cold", "warm"):
                if run == "cold":
                    cdp("Network.clearBrowserCache", {})
                call(base, "POST", f"{s}/url", {"url": "about:blank"})
                start = time.monotonic()
                call(base, "POST", f"{s}/url", {"url": url})
                while not call(base, "POST", f"{s}/execute/sync", probe)["value"]:
                    if time.monotonic() - start > 30: raise SystemExit(f"{name} {run}: no dishes after 30 s")
                    time.sleep(0.02)
                elapsed = time.monotonic() - start
                transferred = call(base, "POST", f"{s}/execute/sync", {"script":
                    "return performance.getEntriesByType('resource').concat(performance.getEntriesByType('navigation'))"
                    ".reduce((n, e) => n + (e.transferSize || 0), 0)", "args": []})["value"]
                print(f"{name:8} {run}: menu usable after {elapsed * 1000:.0f} ms ({transferred / 1024:.0f} KB over the wire, images lazy)")
        call(base, "DELETE", s)
    finally:
        driver.kill()

if __name__ == "__main__":
    main(sys.argv[1])
