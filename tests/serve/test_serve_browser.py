"""The web page in a real browser (Playwright + Debian's chromium): type a prompt, watch progress reach
100, and the finished video plays. Fails, not skips, when no browser can start."""
from __future__ import annotations

import shutil

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def test_page_generates_and_plays_a_video(server, owner_key, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(server.url + "/")
            page.fill("#key", owner_key)
            page.dispatch_event("#key", "change")
            page.wait_for_function("document.getElementById('size').value !== ''")  # defaults from /health
            page.fill("#prompt", "a green ball rolling to the left")
            page.fill("#seconds", "1")
            page.fill("#seed", "7")
            page.click("#generate")
            seen: set[int] = set()
            for _ in range(600):  # up to 120 s
                seen.add(int(page.eval_on_selector("#progress", "e => e.value")))
                if 100 in seen:
                    break
                page.wait_for_timeout(200)
            assert 100 in seen, f"progress seen: {sorted(seen)}; status: {page.inner_text('#status')}"
            page.wait_for_function("document.getElementById('player').readyState >= 3", timeout=30_000)
            t0 = page.eval_on_selector("#player", "v => v.currentTime")
            # playing: currentTime moves (it may wrap around, the player loops)
            page.wait_for_function(f"Math.abs(document.getElementById('player').currentTime - {t0}) > 0.1",
                                   timeout=15_000)
            assert page.eval_on_selector("#player", "v => v.videoWidth") == 32
            assert page.get_attribute("#download", "href").startswith("blob:")
            page.wait_for_function("document.getElementById('provenance').textContent.includes('c2pa')",
                                   timeout=60_000)
            assert page.locator("#gallery .card").count() >= 1  # the key's gallery lists it
            shot = tmp_path / "cinegen-page.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            assert not errors, errors
        finally:
            browser.close()
