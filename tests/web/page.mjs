// The web chat as a user drives it, through its data-testid hooks, in headless Chromium (playwright-core).
import assert from "node:assert/strict";

import { chromium } from "playwright-core";

const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const TIMEOUT = 60_000;

export async function openBrowser() {
  try {
    return await chromium.launch({ executablePath: CHROMIUM });
  } catch (error) {
    throw new Error(`cannot start Chromium at ${CHROMIUM} (emulator/install installs Debian's chromium): ${error.message}`);
  }
}

/** A page of the web chat that records console errors and uncaught exceptions. */
export class ChatPage {
  static async open(browser, url) {
    const context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
    const page = await context.newPage();
    const chatPage = new ChatPage(context, page);
    await page.goto(url);
    return chatPage;
  }

  constructor(context, page) {
    this.context = context;
    this.page = page;
    this.errors = [];
    this.allowed = [];
    page.on("console", (message) => {
      const text = message.text();
      if (message.type() === "error" && !this.allowed.some((pattern) => pattern.test(text))) {
        this.errors.push(`console: ${text}`);
      }
    });
    page.on("pageerror", (error) => this.errors.push(`page error: ${error.message}`));
    page.setDefaultTimeout(TIMEOUT);
  }

  /** Console errors matching ``pattern`` are expected from now on (e.g. while the network is off). */
  allow(pattern) {
    this.allowed.push(pattern);
  }

  testid(id) {
    return this.page.getByTestId(id);
  }

  async signInAsGuest() {
    await this.testid("sign-in-anonymous").click();
    await this.signedIn();
  }

  /** The chat is shown and the sign-in form is not. */
  async signedIn() {
    await this.testid("message-input").waitFor();
    await this.testid("email-form").waitFor({ state: "hidden" });
  }

  async signInWithEmail(email, password, { create = false } = {}) {
    await this.page.getByLabel("Email").fill(email);
    await this.page.getByLabel("Password").fill(password);
    await this.testid(create ? "sign-up-email" : "sign-in-email").click();
    await this.signedIn();
  }

  /** Types a message and presses Enter (the keyboard way to send). */
  async say(text) {
    const count = await this.testid("message").count();
    await this.testid("message-input").fill(text);
    await this.testid("message-input").press("Enter");
    await this.page.waitForFunction(
      ([before, sent]) => {
        const users = [...document.querySelectorAll('[data-testid="message"][data-author="user"]')];
        return document.querySelectorAll('[data-testid="message"]').length > before && users.at(-1)?.textContent.includes(sent);
      },
      [count, text],
    );
  }

  /** Waits until the chat waits for the user again and its last message is a finished AI answer. */
  async settled() {
    await this.page.waitForFunction(() => {
      const messages = [...document.querySelectorAll('[data-testid="message"]')];
      const last = messages.at(-1);
      return (
        document.querySelector('[data-testid="status"]').textContent === "userInput" &&
        last?.dataset.author === "ai" &&
        last.dataset.streaming === "false"
      );
    });
    return this.facts();
  }

  async facts() {
    return {
      status: await this.testid("status").textContent(),
      data: JSON.parse(await this.testid("data").textContent()),
      assistant: await this.testid("assistant").textContent(),
    };
  }

  async messages() {
    return this.testid("message").evaluateAll((items) =>
      items.map((item) => ({
        author: item.dataset.author,
        streaming: item.dataset.streaming,
        stopped: item.dataset.stopped,
        text: item.querySelector(".text").textContent,
      })),
    );
  }

  async lastAnswer() {
    return (await this.messages()).filter((m) => m.author === "ai").at(-1)?.text;
  }

  async screenshot(path) {
    await this.page.screenshot({ path, fullPage: true });
  }

  assertNoErrors() {
    assert.deepEqual(this.errors, [], "the page logged errors");
  }
}
