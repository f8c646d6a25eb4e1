// The page side of scripts/headless.ts: a harness page marks itself started once its imports
// loaded, sends log lines, and ends with one result. Opened by hand (no harness), it still shows
// its log on the page.
export type HarnessResult<T> = { ok: T } | { error: string; stack?: string };

interface HarnessWindow {
  harnessLog?: (line: string) => Promise<void>;
  harnessDone?: (result: HarnessResult<unknown>) => Promise<void>;
  harnessStarted?: boolean;
}

export function startHarness(screen: HTMLElement) {
  const w = window as unknown as HarnessWindow;
  w.harnessStarted = true;
  const show = (line: string) => {
    screen.textContent += `${line}\n`;
  };
  return {
    show,
    log(line: string): void {
      show(line);
      void w.harnessLog?.(line);
    },
    async done<T>(result: HarnessResult<T>): Promise<void> {
      await w.harnessDone?.(result);
    },
  };
}
