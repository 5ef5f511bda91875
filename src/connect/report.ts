/**
 * What connect tells the operator, on stdout only. One line per thing: what changes (`+` added, `~`
 * changed, `-` removed), what stays (`=`), what they should know (`!`), and what --undo cannot put back.
 * A secret connect creates is printed once, the moment it exists, and goes nowhere else: not to a log, not
 * into the state file, not into an error message.
 */

export interface Output {
  write(text: string): unknown;
}

type Mark = '+' | '~' | '-' | '=' | '!';

export class Reporter {
  private changes = 0;
  private readonly cannot: string[] = [];

  constructor(
    private readonly out: Output,
    readonly dryRun: boolean,
  ) {}

  heading(text: string): void {
    this.out.write(`\n${text}\n`);
  }

  /** A change: planned in a dry run, made otherwise (the caller writes before it reports). */
  change(mark: '+' | '~' | '-', text: string): void {
    this.changes += 1;
    this.line(mark, this.dryRun ? `${text} (would be done)` : text);
  }

  keep(text: string): void {
    this.line('=', text);
  }

  warn(text: string): void {
    this.line('!', text);
  }

  info(text: string): void {
    this.out.write(`    ${text}\n`);
  }

  /** Something --undo could not put back: listed again at the end, where it is read. */
  cannotRestore(text: string): void {
    this.cannot.push(text);
    this.line('!', `cannot restore: ${text}`);
  }

  /** A value shown once (a generated client secret): printed now, never stored or logged. */
  secret(name: string, value: string, why: string): void {
    this.out.write(`\n    ${name}=${value}\n    ^ ${why}\n\n`);
  }

  get changeCount(): number {
    return this.changes;
  }

  summary(): void {
    if (this.cannot.length > 0) {
      this.heading('Not restored (do it by hand):');
      for (const text of this.cannot) this.out.write(`  - ${text}\n`);
    }
    const n = this.changes;
    const what = `${n} change${n === 1 ? '' : 's'}`;
    if (n === 0) this.out.write('\nNothing to change: everything is as callerpop needs it.\n');
    else if (this.dryRun) this.out.write(`\nDry run: ${what} planned, nothing was changed.\n`);
    else this.out.write(`\nDone: ${what}.\n`);
  }

  private line(mark: Mark, text: string): void {
    this.out.write(`  ${mark} ${text}\n`);
  }
}
