"""The status page in headless Chromium (Debian's package, driven by Playwright from PyPI), for
scripts/check-status-page. It talks to its caller over stdin and stdout, so that killing a
process stays the caller's (scripts/lib/local-bazar.sh knows which PIDs are ours):

  python status-page.py BASE_URL FAILOVER_SECONDS [SCREENSHOT]
    prints  "leader catalog <name>"   once the page shows every replica and a catalog leader
    reads   one line ("killed")       once the caller has killed that leader
    prints  "new leader catalog <name>" once the page, without being reloaded, shows another one
  Exit status 0 when all of it happened, 1 (with the reason on stderr) otherwise.
"""
import sys
import time

from playwright.sync_api import sync_playwright

base, failover = sys.argv[1], float(sys.argv[2])
screenshot = sys.argv[3] if len(sys.argv) > 3 else None


def fail(reason):
    print(f"status-page: {reason}", file=sys.stderr, flush=True)
    sys.exit(1)


def replicas(page):
    return page.eval_on_selector_all("[data-replica]", "nodes => nodes.map(n => [n.dataset.replica, n.dataset.role])")


with sync_playwright() as playwright:
    browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
    page = browser.new_page(viewport={"width": 1100, "height": 780})
    requests_elsewhere = []
    page.on("request", lambda r: None if r.url.startswith(base) else requests_elsewhere.append(r.url))
    page.goto(base + "/status")
    # The page draws itself from GET /status (JSON) once a second.
    page.wait_for_function(
        "() => document.querySelectorAll('[data-role=\"leader\"]').length >= 2", timeout=failover * 1000)
    drawn = replicas(page)
    services = {name.rsplit("-", 1)[0] for name, _ in drawn}
    if services != {"catalog", "order"}:
        fail(f"the page shows {drawn}, not both services")
    if any(role != "follower" and role != "leader" for _, role in drawn):
        fail(f"a replica is not answering on a healthy system: {drawn}")
    leader = page.inner_text("#leader-catalog").strip()
    if not leader.startswith("catalog-") or dict(drawn).get(leader) != "leader":
        fail(f"the catalog leader shown is {leader!r}, its card says {dict(drawn).get(leader)!r}")
    if page.inner_text("#state").startswith("front end not answering"):
        fail("the page says the front end does not answer")
    if screenshot:
        page.screenshot(path=screenshot, full_page=True)
    print(f"leader catalog {leader}", flush=True)

    if sys.stdin.readline().strip() != "killed":
        fail("the caller did not kill the leader")
    killed_at = time.monotonic()
    try:
        page.wait_for_function(
            """leader => {
                const shown = document.getElementById('leader-catalog').textContent.trim();
                const card = document.querySelector(`[data-replica="${leader}"]`);
                return shown.startsWith('catalog-') && shown !== leader && card && card.dataset.role === 'unreachable';
            }""",
            arg=leader, timeout=failover * 1000)
    except Exception:
        fail(f"within {failover:.0f} s the page still shows {page.inner_text('#leader-catalog')!r} leading "
             f"and {replicas(page)}")
    successor = page.inner_text("#leader-catalog").strip()
    changes = page.inner_text("#changes")
    if successor not in changes:
        fail(f"the leader changes do not list {successor}: {changes!r}")
    if requests_elsewhere:
        fail(f"the page asked for something from elsewhere: {requests_elsewhere[:3]}")
    print(f"new leader catalog {successor} after {time.monotonic() - killed_at:.1f} s", flush=True)
    browser.close()
