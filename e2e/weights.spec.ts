// Weight format and memory budget in the built demo: `?weights=q4` loads q4 weights and says so,
// and a `?memory=` budget below the f16 requirement refuses f16 with the numbers and offers q4.
import { expect, test, type Page } from '@playwright/test';
import { resolve } from 'node:path';
import { formatMemory } from '../src/embed/format.ts';
import { FIXTURES, ROOT, TINY, finishedAnswer, lastAnswer, screenshot, send, setSettings, waitReady } from './helpers.ts';
import { startServers, type Servers } from './server.ts';

let servers: Servers;
test.beforeAll(async () => {
  servers = await startServers(resolve(ROOT, 'dist'), FIXTURES);
});
test.afterAll(async () => {
  await servers.close();
});

const card = (page: Page) => page.getByRole('region', { name: 'Model' });
const option = (page: Page, format: string) => card(page).locator(`label.weight[data-format=${format}]`);
/** What the card says a format needs, once its fit check has answered. */
async function required(page: Page, format: string): Promise<number> {
  await expect(option(page, format)).toHaveAttribute('data-required', /^\d+$/);
  return Number(await option(page, format).getAttribute('data-required'));
}

test('?weights=q4 chooses q4, shows its smaller need, loads q4 weights and streams an answer', async ({ page }) => {
  const model = `${servers.models}${TINY}/`;
  servers.control.delayMs = 300; // slow enough to see the card while it loads
  await page.goto(`${servers.app}?model=${encodeURIComponent(model)}&weights=q4`);
  await expect(card(page).getByRole('radio', { name: 'q4' })).toBeChecked();
  await expect(card(page).getByRole('radio', { name: 'f16' })).not.toBeChecked();
  await expect(card(page)).toContainText('Fits this GPU with q4 weights: needs');
  const [q4, q8, f16] = [await required(page, 'q4'), await required(page, 'q8'), await required(page, 'f16')];
  expect(q4).toBeLessThan(q8);
  expect(q8).toBeLessThan(f16);
  await expect(option(page, 'q4')).toContainText(formatMemory(q4));
  await screenshot(page, 'weights-1-q4-loading');
  await waitReady(page);
  servers.control.delayMs = 0;
  await expect(page.locator('.model-button')).toContainText(TINY);
  await expect(page.locator('.model-button .model-quant')).toHaveText('· q4');

  await setSettings(page, { temperature: '0', maxTokens: '8' });
  await send(page, 'Write a short line about the sea.');
  await expect(lastAnswer(page).locator('.answer')).toHaveAttribute('data-raw', /.+/);
  expect(await finishedAnswer(page)).not.toBe('');
  await expect(lastAnswer(page).locator('.meta')).toContainText('tok/s');
  expect(await page.evaluate(() => document.querySelector('qwen-chat')!.loaded?.quant)).toBe('q4');
  await screenshot(page, 'weights-2-q4-answer');
});

test('a memory budget below the f16 need: f16 does not fit, with the numbers; q4 is offered and fits', async ({ page }) => {
  const model = encodeURIComponent(`${servers.models}${TINY}/`);
  // A budget nothing fits: no load starts, and every format's need shows.
  await page.goto(`${servers.app}?model=${model}&memory=1`);
  await expect(card(page)).toContainText('Doesn’t fit this GPU with f16 weights');
  const [q4, q8, f16] = [await required(page, 'q4'), await required(page, 'q8'), await required(page, 'f16')];

  const budget = Math.floor((q4 + q8) / 2);
  await page.goto(`${servers.app}?model=${model}&memory=${budget}`);
  await expect(card(page).getByRole('radio', { name: 'f16' })).toBeChecked();
  await expect(card(page)).toContainText('Doesn’t fit this GPU with f16 weights');
  await expect(card(page)).toContainText(`The model needs ${formatMemory(f16)} of GPU memory`);
  await expect(card(page)).toContainText(`more than the budget of ${formatMemory(budget)}`);
  await expect(card(page)).toContainText(`Memory budget: ${formatMemory(budget)}`);
  await expect(card(page)).toContainText(`Fits in q4: needs ${formatMemory(q4)}`);
  await expect(option(page, 'f16')).toHaveAttribute('data-fits', 'false');
  await expect(option(page, 'q8')).toHaveAttribute('data-fits', 'false');
  await expect(option(page, 'q4')).toHaveAttribute('data-fits', 'true');
  await expect(card(page).getByRole('button', { name: /and load|Load model/ })).toBeDisabled();
  await page.setViewportSize({ width: 390, height: 844 });
  await screenshot(page, 'weights-3-budget-phone');
  await page.setViewportSize({ width: 1280, height: 800 });

  await card(page).getByRole('button', { name: 'Use q4' }).click();
  await expect(card(page).getByRole('radio', { name: 'q4' })).toBeChecked();
  await expect(card(page)).toContainText(`Fits this GPU with q4 weights: needs ${formatMemory(q4)}`);
  await expect(card(page).getByRole('button', { name: /and load|Load model/ })).toBeEnabled();
  await expect(page).toHaveURL(/[?&]weights=q4(&|$)/);
  expect(await page.locator('qwen-chat').getAttribute('weights')).toBe('q4');
  await page.emulateMedia({ colorScheme: 'dark' });
  await screenshot(page, 'weights-4-q4-chosen-dark');
  await page.emulateMedia({ colorScheme: 'light' });

  // Keyboard: arrows move through the radio group, and the verdict follows.
  await card(page).getByRole('radio', { name: 'q4' }).focus();
  await page.keyboard.press('ArrowLeft');
  await expect(card(page).getByRole('radio', { name: 'q8' })).toBeChecked();
  await expect(card(page).getByRole('radio', { name: 'q8' })).toBeFocused();
  await expect(card(page)).toContainText('Doesn’t fit this GPU with q8 weights');
  await expect(card(page)).toContainText('Fits in q4');

  // The picker shows the choice and the budget.
  await page.locator('.model-button').click();
  const dialog = page.getByRole('dialog', { name: 'Choose a model' });
  await expect(dialog.getByRole('radio', { name: 'q8' })).toBeChecked();
  await expect(dialog.getByLabel('GPU memory budget')).toHaveValue(formatMemory(budget));
  await dialog.getByRole('button', { name: 'Close' }).click();

  // An unreadable budget is warned about on the console and ignored: the model fits again.
  const warnings: string[] = [];
  page.on('console', (m) => m.type() === 'warning' && warnings.push(m.text()));
  await page.locator('qwen-chat').evaluate((el) => {
    el.removeAttribute('autoload');
    el.setAttribute('memory-budget', 'lots');
  });
  await expect(card(page)).toContainText('Fits this GPU with q8 weights');
  await expect(card(page)).not.toContainText('Memory budget');
  expect(warnings.join('\n')).toContain('memory-budget="lots" is not a size');
});
