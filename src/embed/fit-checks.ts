import type { LoadOptions, ModelFit } from '../api.ts';
import type { EngineClient } from '../worker/client.ts';
import { DEFAULT_WEIGHTS, WEIGHT_FORMATS, parseMemoryBudget, parseWeights, type WeightFormat } from './load-settings.ts';

/** What the card shows of the weight formats: the one chosen, each one's fit as far as known, the budget. */
export interface WeightsView {
  chosen: WeightFormat;
  /** null: that format's check failed (the chosen one's failure is the card's error instead). */
  fits: Partial<Record<WeightFormat, ModelFit | null>>;
  budget: number | null;
}

/**
 * <qwen-chat>'s load settings (the weight format and memory budget its attributes or its user
 * chose) and the selected model's fit checks, one per format. The chosen format is checked first,
 * so its verdict shows as soon as it can; the others follow in parallel once the engine has its
 * GPU device (concurrent first calls would each make one). A new selection makes older answers stale.
 */
export class FitChecks {
  quant: WeightFormat = DEFAULT_WEIGHTS;
  budget: number | null = null;
  private fits: WeightsView['fits'] = {};
  private generation = 0;

  /** Reads the `weights` and `memory-budget` attributes; a value it cannot read is warned about and ignored. Returns whether anything changed. */
  readAttributes(element: Element): boolean {
    const weights = parseWeights(element.getAttribute('weights'));
    if (!weights.ok) console.warn(`<qwen-chat>: ${weights.error}; loading ${DEFAULT_WEIGHTS} weights instead`);
    const budget = parseMemoryBudget(element.getAttribute('memory-budget'));
    if (!budget.ok) console.warn(`<qwen-chat>: ${budget.error}; no memory budget is applied`);
    const quant = weights.ok ? weights.value : DEFAULT_WEIGHTS;
    const bytes = budget.ok ? budget.value : null;
    const changed = quant !== this.quant || bytes !== this.budget;
    this.quant = quant;
    this.budget = bytes;
    return changed;
  }

  options(quant: WeightFormat = this.quant): LoadOptions {
    return this.budget === null ? { quant } : { quant, memoryBudgetBytes: this.budget };
  }

  /** The chosen format's fit, once checked. */
  get fit(): ModelFit | null {
    return this.fits[this.quant] ?? null;
  }

  view(): WeightsView {
    return { chosen: this.quant, fits: { ...this.fits }, budget: this.budget };
  }

  /** Forgets the checks (a new model, format or budget); answers to older checks are dropped. */
  reset(): void {
    this.fits = {};
    this.generation++;
  }

  /** Checks the chosen format; undefined when a newer selection made the answer (or error) stale. */
  async checkChosen(engine: EngineClient, model: string): Promise<ModelFit | undefined> {
    const generation = this.generation;
    const quant = this.quant;
    let fit: ModelFit;
    try {
      fit = await engine.checkFit(model, this.options(quant));
    } catch (e) {
      if (generation !== this.generation) return undefined;
      throw e;
    }
    if (generation !== this.generation) return undefined;
    this.fits[quant] = fit;
    return fit;
  }

  /** Checks the formats not checked yet; false when a newer selection made the answers stale. */
  async checkOthers(engine: EngineClient, model: string): Promise<boolean> {
    const generation = this.generation;
    const missing = WEIGHT_FORMATS.filter((quant) => !(quant in this.fits));
    const fits = await Promise.all(missing.map((quant) => engine.checkFit(model, this.options(quant)).catch(() => null)));
    if (generation !== this.generation) return false;
    missing.forEach((quant, i) => (this.fits[quant] = fits[i]));
    return true;
  }
}
