/** The models the picker offers; any other repo id or base URL can be typed in. */
export interface CatalogModel {
  id: string;
  name: string;
  /** A few words on what it is for. */
  blurb: string;
  tags: string[];
}

export interface CatalogFamily {
  family: string;
  models: CatalogModel[];
}

export const CATALOG: CatalogFamily[] = [
  {
    family: 'Qwen3.5',
    models: [
      { id: 'Qwen/Qwen3.5-0.8B', name: 'Qwen3.5 0.8B', blurb: 'Quickest to download; runs on most GPUs', tags: ['Text', 'Thinking'] },
      { id: 'Qwen/Qwen3.5-2B', name: 'Qwen3.5 2B', blurb: 'A good balance of speed and quality', tags: ['Text', 'Thinking'] },
      { id: 'Qwen/Qwen3.5-4B', name: 'Qwen3.5 4B', blurb: 'Stronger reasoning; thinks by default', tags: ['Text', 'Thinking'] },
      { id: 'Qwen/Qwen3.5-9B', name: 'Qwen3.5 9B', blurb: 'The largest dense model; needs a big GPU', tags: ['Text', 'Thinking'] },
    ],
  },
  {
    family: 'Qwen3.5 MoE',
    models: [{ id: 'Qwen/Qwen3.5-35B-A3B', name: 'Qwen3.5 35B-A3B', blurb: 'Mixture of experts: 35B weights, 3B active per token', tags: ['Text', 'Thinking', 'MoE'] }],
  },
  {
    family: 'Qwen3-VL',
    models: ['2B', '4B', '8B'].flatMap((size) => [
      { id: `Qwen/Qwen3-VL-${size}-Instruct`, name: `Qwen3-VL ${size} Instruct`, blurb: 'Sees images and video; answers directly', tags: ['Vision'] },
      { id: `Qwen/Qwen3-VL-${size}-Thinking`, name: `Qwen3-VL ${size} Thinking`, blurb: 'Sees images and video; reasons first', tags: ['Vision', 'Thinking'] },
    ]),
  },
];

/** A display name for any model string: the catalogue's, else the repo name or the URL's last folder. */
export function displayName(model: string): string {
  for (const family of CATALOG) for (const m of family.models) if (m.id === model) return m.name;
  const trimmed = model.replace(/[?#].*$/, '').replace(/\/+$/, '');
  const last = trimmed.slice(trimmed.lastIndexOf('/') + 1);
  return last || model;
}
