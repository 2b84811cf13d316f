/** Every message handed to the EMAIL binding, in order (installed by the setup file). */
export interface TappedMail {
  to: string;
  raw: string;
}

const box = ((globalThis as { __outbox?: TappedMail[] }).__outbox ??= []);
(globalThis as { __mailTap?: (raw: string, to: string) => void }).__mailTap = (raw, to) => {
  box.push({ raw, to });
};

export const outbox = box;
