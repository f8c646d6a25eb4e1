import type { VisionInfo } from '../api.ts';
import { CATALOG } from './catalog.ts';
import { h, icon, replace } from './dom.ts';
import { formatMemory } from './format.ts';
import { parseMemoryBudget, type WeightFormat } from './load-settings.ts';
import { weightsChoice } from './weights-choice.ts';

export function dialogShell(title: string, ...body: HTMLElement[]): HTMLDialogElement {
  const id = `dlg-${Math.random().toString(36).slice(2, 8)}`;
  const dialog = h('dialog', { 'aria-labelledby': id });
  const close = h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Close', onclick: () => dialog.close() }, icon('close'));
  dialog.append(h('div', { class: 'dialog-head' }, h('h2', { id }, title), close), h('div', { class: 'dialog-body' }, ...body));
  // A click on the backdrop (outside the dialog's box) closes it, as people expect of a sheet.
  dialog.addEventListener('click', (e) => {
    const box = dialog.getBoundingClientRect();
    if (e.target === dialog && (e.clientX < box.left || e.clientX > box.right || e.clientY < box.top || e.clientY > box.bottom)) dialog.close();
  });
  return dialog;
}

/** How the next load is made: the element's `weights` and `memory-budget`. */
export interface LoadChoice {
  current(): { weights: WeightFormat; budget: number | null };
  setWeights(format: WeightFormat): void;
  /** The budget as typed (already checked to parse); empty removes it. */
  setBudget(text: string): void;
}

/** Chooses a model from the catalogue, or any Hub repo id or base URL typed in, and how to load it. */
export class ModelPicker {
  readonly element: HTMLDialogElement;
  private readonly options: HTMLButtonElement[] = [];
  private readonly custom = h('input', { type: 'text', name: 'model', placeholder: 'owner/repo or https://…', 'aria-label': 'Repo id or base URL', autocomplete: 'off', spellcheck: 'false' });
  private readonly weights = h('div', {});
  private readonly budget = h('input', { type: 'text', name: 'memory-budget', placeholder: 'None, e.g. 8GiB', autocomplete: 'off', spellcheck: 'false', inputmode: 'text' });

  constructor(onPick: (model: string) => void, private readonly choice: LoadChoice) {
    const groups = CATALOG.map((family) => h('div', { class: 'group', role: 'group', 'aria-label': family.family },
      h('h3', {}, family.family),
      h('div', { class: 'options' }, ...family.models.map((m) => {
        const option = h('button', { type: 'button', class: 'option', 'data-model': m.id },
          h('span', { class: 'text' }, h('span', { class: 'title' }, m.name), h('span', { class: 'blurb' }, m.blurb)),
          h('span', { class: 'tags' }, ...m.tags.map((t) => h('span', { class: 'tag' }, t))));
        option.addEventListener('click', () => {
          this.element.close();
          onPick(m.id);
        });
        this.options.push(option);
        return option;
      }))));
    const form = h('form', { class: 'custom' }, this.custom, h('button', { type: 'submit', class: 'secondary' }, 'Open'));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const value = this.custom.value.trim();
      if (!value) return;
      this.element.close();
      onPick(value);
    });
    this.budget.addEventListener('input', () => this.budget.setCustomValidity(''));
    this.budget.addEventListener('change', () => {
      const parsed = parseMemoryBudget(this.budget.value);
      this.budget.setCustomValidity(parsed.ok ? '' : parsed.error);
      if (parsed.ok) choice.setBudget(this.budget.value.trim());
      else this.budget.reportValidity();
    });
    const budget = h('label', { class: 'field' }, h('span', {}, 'GPU memory budget'), this.budget,
      h('small', {}, 'WebGPU doesn’t say how much memory a GPU has. With a budget, a model that needs more is refused before it downloads.'));
    this.element = dialogShell('Choose a model', ...groups, h('div', { class: 'group' }, h('h3', {}, 'Any Hugging Face repo or URL'), form),
      h('div', { class: 'group load-choice' }, this.weights, budget));
  }

  open(current: string): void {
    const { weights, budget } = this.choice.current();
    replace(this.weights, weightsChoice(weights, (format) => this.choice.setWeights(format)));
    this.budget.value = budget === null ? '' : formatMemory(budget);
    this.budget.setCustomValidity('');
    for (const option of this.options) option.setAttribute('aria-current', String(option.dataset.model === current));
    if (!this.options.some((o) => o.dataset.model === current)) this.custom.value = current;
    this.element.showModal();
    (this.options.find((o) => o.dataset.model === current) ?? this.options[0]).focus();
  }
}

/** Sampling settings; an empty field means the model's own default (its generation_config.json). */
export interface ChatSettings {
  temperature: number | null;
  topP: number | null;
  maxTokens: number;
  system: string;
  /** Most visual tokens a message's images and videos may take together (null: the model's own limit). */
  maxVisualTokens: number | null;
}

export class SettingsDialog {
  readonly element: HTMLDialogElement;
  private readonly temperature = h('input', { type: 'number', name: 'temperature', min: 0, max: 2, step: 0.05, placeholder: 'Model default', inputmode: 'decimal' });
  private readonly topP = h('input', { type: 'number', name: 'top_p', min: 0.01, max: 1, step: 0.01, placeholder: 'Model default', inputmode: 'decimal' });
  private readonly maxTokens = h('input', { type: 'number', name: 'max_tokens', min: 1, step: 1, inputmode: 'numeric' });
  private readonly system = h('textarea', { name: 'system', rows: 3, placeholder: 'You are a helpful assistant.' });
  private readonly visualTokens = h('input', { type: 'number', name: 'max_visual_tokens', min: 0, step: 1, inputmode: 'numeric' });
  private readonly visualHint = h('small', {});
  private readonly visualField: HTMLElement;

  constructor(private readonly settings: ChatSettings) {
    const field = (label: string, input: HTMLElement, hint: string | HTMLElement) => h('label', { class: 'field' }, h('span', {}, label), input, typeof hint === 'string' ? h('small', {}, hint) : hint);
    this.visualField = field('Visual token limit', this.visualTokens, this.visualHint);
    const form = h('form', { class: 'dialog-body', style: 'padding:0' },
      field('Temperature', this.temperature, '0 always picks the likeliest token (greedy); higher is more varied.'),
      field('Top-p', this.topP, 'Sample only from the most likely tokens covering this probability.'),
      field('Max new tokens', this.maxTokens, 'The answer stops after this many tokens.'),
      field('System prompt', this.system, 'Instructions the model sees before the conversation.'),
      this.visualField,
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Done')));
    form.addEventListener('input', () => this.read());
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.read();
      this.element.close();
    });
    this.element = dialogShell('Settings', form);
  }

  /** `vision`: the loaded model's, when it sees images and video (the visual token field shows only then). */
  open(vision: VisionInfo | null = null): void {
    const s = this.settings;
    this.visualField.hidden = !vision;
    if (vision) {
      this.visualTokens.placeholder = `Model limit (${vision.maxVisualTokens.toLocaleString('en-US')})`;
      this.visualTokens.max = String(vision.maxVisualTokens);
      this.visualHint.textContent = 'Images and videos of a message share these tokens; larger ones are scaled down to fit. Fewer tokens answer sooner but see less detail.';
    }
    this.visualTokens.value = s.maxVisualTokens === null ? '' : String(s.maxVisualTokens);
    this.temperature.value = s.temperature === null ? '' : String(s.temperature);
    this.topP.value = s.topP === null ? '' : String(s.topP);
    this.maxTokens.value = String(s.maxTokens);
    this.system.value = s.system;
    this.element.showModal();
  }

  private read(): void {
    const num = (input: HTMLInputElement, min: number, max: number): number | null => {
      const v = input.valueAsNumber;
      return input.value === '' || !Number.isFinite(v) ? null : Math.min(max, Math.max(min, v));
    };
    this.settings.temperature = num(this.temperature, 0, 2);
    this.settings.topP = num(this.topP, 0.01, 1);
    this.settings.maxTokens = Math.round(num(this.maxTokens, 1, 1 << 20) ?? this.settings.maxTokens);
    this.settings.system = this.system.value;
    const visual = num(this.visualTokens, 0, 1 << 24);
    this.settings.maxVisualTokens = visual === null ? null : Math.round(visual);
  }
}
