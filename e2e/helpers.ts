// Shared steps of the e2e tests: where things are, and how a user drives the chat.
import { expect, type Page } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const FIXTURES = resolve(ROOT, process.env.QWEN_FIXTURES ?? '../shared/fixtures');
export const TINY = 'qwen35-tiny-text';
export const SHOTS = resolve(ROOT, 'test-results/screenshots');
mkdirSync(SHOTS, { recursive: true });

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: resolve(SHOTS, `${name}.png`), animations: 'disabled' });
}

/** Waits until the loaded model is ready to chat (the fit check and the load included). */
export async function waitReady(page: Page): Promise<void> {
  await expect(page.locator('.status')).toHaveAttribute('data-state', 'ready', { timeout: 180_000 });
}

export async function setSettings(page: Page, settings: { temperature?: string; maxTokens?: string }): Promise<void> {
  await page.getByRole('button', { name: 'Settings' }).click();
  if (settings.temperature !== undefined) await page.getByLabel('Temperature').fill(settings.temperature);
  if (settings.maxTokens !== undefined) await page.getByLabel('Max new tokens').fill(settings.maxTokens);
  await page.getByRole('button', { name: 'Done' }).click();
}

export async function send(page: Page, text: string): Promise<void> {
  const box = page.getByRole('textbox', { name: 'Message' });
  await box.fill(text);
  await box.press('Enter');
}

export const lastAnswer = (page: Page) => page.locator('article.msg.assistant').last();

interface AnswerState {
  busy: string | null;
  raw: string;
}

/**
 * Records every state the newest answer goes through (aria-busy, Markdown so far), from inside
 * <qwen-chat>'s shadow root: polling from the test could miss a fast answer's partial states.
 */
export async function recordAnswerStates(page: Page): Promise<void> {
  await page.evaluate(() => {
    const root = document.querySelector('qwen-chat')!.shadowRoot!;
    const states: AnswerState[] = [];
    (window as unknown as { answerStates: AnswerState[] }).answerStates = states;
    new MutationObserver(() => {
      const articles = root.querySelectorAll('article.msg.assistant');
      const last = articles[articles.length - 1];
      if (last) states.push({ busy: last.getAttribute('aria-busy'), raw: (last.querySelector('.answer') as HTMLElement | null)?.dataset.raw ?? '' });
    }).observe(root, { subtree: true, childList: true, attributes: true, characterData: true });
  });
}

export function answerStates(page: Page): Promise<AnswerState[]> {
  return page.evaluate(() => (window as unknown as { answerStates: AnswerState[] }).answerStates);
}

/** Waits for the answer being written to finish; returns its Markdown source as the UI received it. */
export async function finishedAnswer(page: Page): Promise<string> {
  const answer = lastAnswer(page);
  await expect(answer).toHaveAttribute('aria-busy', 'false', { timeout: 180_000 });
  return (await answer.locator('.answer').getAttribute('data-raw')) ?? '';
}
