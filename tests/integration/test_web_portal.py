"""The portal driven in headless Chromium (python3-selenium and
chromium-driver from Debian): log in, enrol two-factor by reading the
secret from the page and computing codes, log in again with a code,
create an app password and use it over IMAP, revoke it, read the login
history, change the password (the old one then fails), log out, and turn
two-factor off. A screenshot of each page goes to the artifact directory
($TERN_ARTIFACTS or tests/integration/artifacts/web/), printed by the test."""
import imaplib
import os

from selenium.webdriver.support.expected_conditions import staleness_of
from selenium.webdriver.support.ui import WebDriverWait
import shutil
import time

import pytest

from web_helpers import stop, totp, web_instance

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402

USER, PASSWORD = "carol@a.test", "carol-secret-333"
NEW_PASSWORD = "carol-new-secret-4444"

HERE = os.path.dirname(os.path.abspath(__file__))
ARTIFACTS = os.path.join(os.environ.get("TERN_ARTIFACTS", os.path.join(HERE, "artifacts")),
                         "web")


def chromium_driver():
    if shutil.which("chromedriver") is None:
        pytest.skip("chromium-driver is not installed")
    opts = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--ignore-certificate-errors", "--window-size=1000,900"):
        opts.add_argument(arg)
    if os.path.exists("/usr/bin/chromium"):
        opts.binary_location = "/usr/bin/chromium"
    from selenium.webdriver.chrome.service import Service
    service = Service(executable_path=shutil.which("chromedriver"))
    return webdriver.Chrome(options=opts, service=service)


@pytest.fixture(scope="module")
def t(base_dir, certs):
    inst = web_instance(base_dir, certs)
    yield inst
    stop(inst)


@pytest.fixture(scope="module")
def browser():
    d = chromium_driver()
    d.set_page_load_timeout(60)
    os.makedirs(ARTIFACTS, exist_ok=True)
    print("\nportal screenshots in %s" % ARTIFACTS)
    yield d
    d.quit()


class Portal:
    def __init__(self, t, d):
        self.t, self.d = t, d
        self.base = "https://%s:%d" % (t.host, t.https_port)

    def open(self, path):
        self.d.get(self.base + path)
        self.wait_loaded()

    def shot(self, name):
        self.d.save_screenshot(os.path.join(ARTIFACTS, name + ".png"))

    def fill(self, field_id, value):
        el = self.d.find_element(By.ID, field_id)
        el.clear()
        el.send_keys(value)

    def click(self, button_id, by=By.ID):
        # every button posts a form: wait until the next page replaced this
        # one, so the test never reads the old page (stale elements, path)
        old = self.d.find_element(By.TAG_NAME, "html")
        self.d.find_element(by, button_id).click()
        WebDriverWait(self.d, 30).until(staleness_of(old))
        self.wait_loaded()

    def wait_loaded(self):
        # the old page is gone once staleness_of holds, but the new one may
        # still be parsing: a body read then is "no such element" (seen in CI)
        WebDriverWait(self.d, 30).until(
            lambda d: d.execute_script("return document.readyState") == "complete"
            and d.find_elements(By.TAG_NAME, "body"))

    def text(self):
        return self.d.find_element(By.TAG_NAME, "body").text

    def path(self):
        return self.d.current_url[len(self.base):]

    def login(self, user, password):
        self.open("/login")
        self.fill("user", user)
        self.fill("password", password)
        self.click("login")


def imap_login(t, user, password):
    c = imaplib.IMAP4(t.host, t.imap_port, timeout=30)
    try:
        c.login(user, password)
        c.logout()
        return True
    except imaplib.IMAP4.error:
        return False


def wait_next_step():
    """Sleeps into the next TOTP step (a used step is refused)."""
    time.sleep(30 - time.time() % 30 + 1)


def test_portal_walkthrough(t, browser):
    p = Portal(t, browser)
    p.open("/login")
    p.shot("01-login")
    assert "Log in" in p.text()
    p.login(USER, "wrong-password")
    assert "Wrong address or password." in p.text()
    p.shot("02-login-failed")

    p.login(USER, PASSWORD)
    assert p.path() == "/"
    assert USER in p.text() and "Off" in browser.find_element(By.ID, "twofactor").text
    p.shot("03-home")

    cookie = browser.get_cookie("__Host-tern")
    assert cookie["secure"] and cookie["httpOnly"] and cookie["sameSite"] == "Strict"

    # two-factor: read the secret, answer with a computed code
    p.click("nav-2fa")
    p.shot("04-2fa-off")
    p.click("enable")
    secret = browser.find_element(By.ID, "secret").text.strip()
    assert len(secret) >= 16
    assert browser.find_elements(By.CSS_SELECTOR, ".qr svg")
    p.shot("05-2fa-enrol")
    p.fill("code", "000000" if totp(secret) != "000000" else "111111")
    p.click("confirm")
    assert "not right" in p.text()
    p.fill("code", totp(secret))
    p.click("confirm")
    codes = [li.text for li in browser.find_elements(By.CSS_SELECTOR, "#recovery-codes li")]
    assert len(codes) == 10
    p.shot("06-2fa-recovery-codes")

    # with two-factor on, the account password no longer works over IMAP
    assert not imap_login(t, USER, PASSWORD)

    # app password: create, use over IMAP
    p.open("/app-passwords")
    p.fill("name", "laptop")
    p.click("create")
    app_password = browser.find_element(By.ID, "new-app-password").text.strip()
    assert "laptop" in browser.find_element(By.ID, "app-passwords").text
    p.shot("07-app-password-created")
    assert imap_login(t, USER, app_password)

    # log out, log in again with password + TOTP code
    p.open("/")
    p.click("logout")
    assert p.path() == "/login"
    p.login(USER, PASSWORD)
    assert p.path() == "/login/code"
    p.shot("08-login-code")
    wait_next_step()    # the enrolment's step was used up
    p.fill("code", totp(secret))
    p.click("verify")
    assert p.path() == "/"
    assert "On (10 recovery codes left)" in p.text()

    # revoke the app password: IMAP refuses it at once
    p.open("/app-passwords")
    p.shot("09-app-passwords")
    p.click("button.revoke", By.CSS_SELECTOR)
    assert "revoked" in p.text()
    assert not imap_login(t, USER, app_password)

    # history
    p.open("/history")
    hist = browser.find_element(By.ID, "history").text
    assert "web" in hist and "imap" in hist and "no" in hist and "yes" in hist
    p.shot("10-history")

    # change the password; the old one fails, the new one works
    p.open("/password")
    p.fill("current", PASSWORD)
    p.fill("new", "short")
    p.fill("confirm", "short")
    p.click("change")
    assert "too short" in p.text()
    p.fill("current", PASSWORD)
    p.fill("new", NEW_PASSWORD)
    p.fill("confirm", NEW_PASSWORD)
    p.click("change")
    assert "Your password was changed" in p.text()
    p.shot("11-password-changed")

    # log in with a recovery code, then turn two-factor off with the password
    p.click("logout")
    p.login(USER, PASSWORD)
    assert "Wrong address or password." in p.text()
    p.login(USER, NEW_PASSWORD)
    assert p.path() == "/login/code"
    p.fill("code", codes[0])
    p.click("verify")
    assert p.path() == "/"
    assert "9 recovery codes left" in p.text()
    p.open("/2fa")
    p.fill("password", "not-my-password")
    p.click("disable")
    assert "not right" in p.text()
    p.fill("password", NEW_PASSWORD)
    p.click("disable")
    assert "Two-factor login is off." in p.text()
    p.shot("12-2fa-disabled")
    assert imap_login(t, USER, NEW_PASSWORD)
    p.click("logout")
    assert p.path() == "/login"
    p.open("/")
    assert p.path() == "/login"
