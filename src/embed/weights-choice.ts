import type { ModelFit } from '../api.ts';
import { h } from './dom.ts';
import { formatMemory } from './format.ts';
import { WEIGHT_FORMATS, type WeightFormat } from './load-settings.ts';

const ABOUT: Record<WeightFormat, string> = {
  f16: '16-bit, as published',
  q8: '8-bit, about ½ the memory',
  q4: '4-bit, about ¼ the memory',
};

let groups = 0;

/**
 * The weight formats as a native radio group (arrow keys move between them): each says what it
 * is and, given `fits`, what it needs on this GPU and whether that fits. `fits` absent: no model
 * to check against (the picker); a format missing from it is still being checked.
 */
export function weightsChoice(chosen: WeightFormat, onChoose: (format: WeightFormat) => void,
  options: { fits?: Partial<Record<WeightFormat, ModelFit | null>>; disabled?: boolean } = {}): HTMLFieldSetElement {
  const name = `weights-${++groups}`;
  const { fits, disabled = false } = options;
  return h('fieldset', { class: 'weights', disabled },
    h('legend', {}, 'Weights'),
    ...WEIGHT_FORMATS.map((format) => {
      const id = `${name}-${format}`;
      const fit = fits?.[format];
      const need = !fits ? null : fit === undefined ? 'Checking…' : fit === null ? 'Could not check'
        : `${formatMemory(fit.requiredBytes)}${fit.fits ? '' : ' · doesn’t fit'}`;
      const input = h('input', {
        type: 'radio', name, value: format, checked: format === chosen, 'aria-label': format, 'aria-describedby': id,
        onchange: () => onChoose(format),
      });
      return h('label', { class: 'weight', 'data-format': format, 'data-fits': fit ? String(fit.fits) : null, 'data-required': fit?.requiredBytes },
        input,
        h('span', { class: 'weight-name' }, format),
        h('span', { class: 'weight-about', id }, ABOUT[format], need && h('span', { class: 'weight-need' }, need)));
    }));
}

/** Focuses the chosen radio in `root` if focus was in a weights group before it was rebuilt. */
export function keepWeightsFocus(root: Element, rebuild: () => void): void {
  const active = (root.getRootNode() as Document | ShadowRoot).activeElement;
  const hadFocus = !!active && root.contains(active) && !!active.closest('fieldset.weights');
  rebuild();
  if (hadFocus) root.querySelector<HTMLInputElement>('fieldset.weights input:checked')?.focus();
}
