// Scenarios of the web chat in headless Chromium, against the emulators (tests/test_web_chat.py runs
// them). Usage: node tests/web/scenarios.mjs NAME, with WEB_CHAT_URL and SCREENSHOT_DIR set; exits 0
// when the scenario held, else prints why (and leaves a screenshot of the failure).
import assert from "node:assert/strict";
import { join } from "node:path";

import { ChatPage, openBrowser } from "./page.mjs";

const url = process.env.WEB_CHAT_URL;
const shots = process.env.SCREENSHOT_DIR || ".emulator";

const scenarios = {
  /** A guest: a tool turn, a suspended tool resumed, a hand-over and back, two chats listed, close. */
  async journey(chat) {
    await chat.signInAsGuest();
    await chat.say("add 5");
    assert.deepEqual((await chat.settled()).data, { sum: 5 });
    await chat.say("multiply by 3"); // suspends; the multiplier task resumes it
    assert.deepEqual((await chat.settled()).data, { sum: 15 });
    await chat.say("divide by 2");
    assert.deepEqual(await chat.settled(), { status: "userInput", data: { sum: 7.5 }, assistant: "divider" });
    await chat.say("hand back");
    assert.equal((await chat.settled()).assistant, "calculator");
    const first = await chat.messages();
    assert.deepEqual(
      first.filter((m) => m.author === "user").map((m) => m.text),
      ["add 5", "multiply by 3", "divide by 2", "hand back"],
    );
    assert.ok(first.every((m) => m.streaming === "false"));

    await chat.testid("new-chat").click();
    assert.equal(await chat.testid("status").textContent(), "new");
    await chat.say("add 1");
    assert.deepEqual((await chat.settled()).data, { sum: 1 });
    const list = chat.testid("chat-list").getByRole("button");
    await chat.page.waitForFunction(() => document.querySelectorAll('[data-testid="chat-list"] button').length === 2);
    assert.match(await list.nth(0).textContent(), /\{"sum":1\}/, "the newest chat comes first");
    assert.match(await list.nth(1).textContent(), /\{"sum":7\.5\}/);

    await list.nth(1).click(); // back to the first chat: its messages and data again
    await chat.page.waitForFunction(() => document.querySelector('[data-testid="data"]').textContent === '{"sum":7.5}');
    await chat.page.waitForFunction(
      (count) => document.querySelectorAll('[data-testid="message"]').length === count,
      first.length,
    );
    await chat.say("subtract 0.5");
    assert.deepEqual((await chat.settled()).data, { sum: 7 });
    await chat.testid("close-chat").click();
    await chat.page.waitForFunction(() => document.querySelector('[data-testid="status"]').textContent === "complete");
    assert.ok(await chat.testid("close-chat").isDisabled());
  },

  /** Email and password on the Auth emulator: the account is created, then used again. */
  async email(chat) {
    const email = `web-${Date.now()}@example.com`;
    await chat.signInWithEmail(email, "secret-password", { create: true });
    await chat.page.getByText(`Signed in as ${email}`).waitFor();
    await chat.say("add 2");
    assert.deepEqual((await chat.settled()).data, { sum: 2 });
    await chat.page.getByRole("button", { name: "Sign out" }).click();
    await chat.signInWithEmail(email, "secret-password");
    await chat.page.waitForFunction(() => document.querySelectorAll('[data-testid="chat-list"] button').length === 1);
  },

  /** Offline and back: the listeners pick up again and the next turn arrives. */
  async reconnect(chat) {
    await chat.signInAsGuest();
    await chat.say("add 3");
    await chat.settled();
    chat.allow(/net::ERR_INTERNET_DISCONNECTED/); // the browser's own log of requests cut by going offline
    await chat.context.setOffline(true);
    await chat.testid("connection").waitFor();
    await chat.context.setOffline(false);
    await chat.testid("connection").waitFor({ state: "hidden" });
    await chat.say("add 4");
    assert.deepEqual((await chat.settled()).data, { sum: 7 });
  },

  /** A chat that fails (the test makes the model server refuse): its error message is shown. */
  async failed(chat) {
    await chat.signInAsGuest();
    await chat.testid("message-input").fill("add 1");
    await chat.testid("send").click();
    await chat.page.waitForFunction(() => document.querySelector('[data-testid="status"]').textContent === "failed");
    assert.equal(await chat.testid("error").textContent(), process.env.EXPECTED_ERROR);
    assert.ok(await chat.testid("error").isVisible());
  },

  /** A guest over the daily post limit: the refusal is shown, nothing is added, the draft stays. */
  async limited(chat) {
    const limit = Number(process.env.GUEST_DAILY_POSTS);
    await chat.signInAsGuest();
    for (let index = 1; index <= limit; index += 1) {
      await chat.say(`add ${index}`);
      await chat.settled();
    }
    assert.deepEqual((await chat.facts()).data, { sum: (limit * (limit + 1)) / 2 });
    const count = await chat.testid("message").count();
    chat.allow(/status of 429/); // the browser's own log of the refused call
    await chat.testid("message-input").fill("add 100");
    await chat.testid("send").click();
    await chat.testid("error").waitFor();
    const shown = await chat.testid("error").textContent();
    const reset = /It resets at 00:00 UTC, in (\d+ h )?\d+ min\.$/;
    assert.ok(shown.startsWith(`You have reached your daily limit of ${limit} messages. `), shown);
    assert.match(shown, reset, "the refusal says when the limit resets");
    assert.equal(await chat.testid("message-input").inputValue(), "add 100", "the refused message is kept to send later");
    assert.equal(await chat.testid("message").count(), count, "a refused post added a message");
  },

  /** Streamed text grows in place: a partial answer is in the page before the final one. */
  async streaming(chat) {
    await chat.signInAsGuest();
    await chat.say("add 5");
    const partial = await chat.page.waitForFunction(() => {
      const item = document.querySelector('[data-testid="message"][data-author="ai"][data-streaming="true"]');
      const text = item?.querySelector(".text").textContent;
      return text ? { text, id: item.dataset.id } : null;
    });
    const seen = await partial.jsonValue();
    await chat.settled();
    const final = await chat.page.evaluate(
      (id) => document.querySelector(`[data-testid="message"][data-id="${id}"] .text`).textContent,
      seen.id,
    );
    assert.ok(final.startsWith(seen.text) && final.length > seen.text.length, `${seen.text} then ${final}`);
  },

  /** Stop while the answer streams: the text so far stays, marked stopped; the chat goes on. */
  async stop(chat) {
    await chat.signInAsGuest();
    assert.ok(await chat.testid("stop").isDisabled(), "Stop is enabled with no answer in progress");
    const story = "tell me a long story about numbers, ".repeat(6).trim();
    await chat.say(story);
    await chat.page.waitForSelector('[data-testid="message"][data-author="ai"][data-streaming="true"]');
    await chat.testid("stop").click();
    const stopped = await chat.settled();
    assert.equal(stopped.status, "userInput");
    const answer = (await chat.messages()).at(-1);
    assert.equal(answer.stopped, "true");
    const full = `You said "${story}".`;
    assert.ok(answer.text && full.startsWith(answer.text) && answer.text.length < full.length, answer.text);
    assert.ok(await chat.testid("stop").isDisabled(), "Stop stays enabled after the stop");
    await chat.say("add 1");
    assert.deepEqual((await chat.settled()).data, { sum: 1 });
  },
};

async function main(name) {
  assert.ok(url, "WEB_CHAT_URL is not set: run under emulator/exec");
  const scenario = scenarios[name];
  assert.ok(scenario, `unknown scenario ${name}; one of ${Object.keys(scenarios)}`);
  const browser = await openBrowser();
  const chat = await ChatPage.open(browser, url);
  try {
    await scenario(chat);
    chat.assertNoErrors();
    await chat.screenshot(join(shots, `web-${name}.png`));
  } catch (error) {
    await chat.screenshot(join(shots, `web-${name}-failed.png`)).catch(() => {});
    console.error(`page errors: ${JSON.stringify(chat.errors)}`);
    throw error;
  } finally {
    await browser.close();
  }
  console.log(`ok ${name}`);
}

main(process.argv[2]).catch((error) => {
  console.error(error);
  process.exit(1);
});
