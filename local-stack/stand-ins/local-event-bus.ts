import { randomUUID } from 'node:crypto';
import { appendFile, type FileHandle, mkdir, open, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  EventBridgeServiceException,
  PutEventsCommand,
  type PutEventsCommandOutput,
  type PutEventsRequestEntry,
  type PutEventsResultEntry,
} from '@aws-sdk/client-eventbridge';
import {
  type EventBridgeApi,
  PUT_EVENTS_MAX_BYTES,
  PUT_EVENTS_MAX_ENTRIES,
  putEventsEntrySize,
} from '../../functions/shared/aws/clients';
import { parseJson, type Warn, warnOnStderr } from './damaged-files';

/** One accepted event as the local bus writes it: one JSON line per event. */
export interface AuditLogEntry {
  id: string;
  time: string;
  source: string;
  'detail-type': string;
  detail: unknown;
  bus: string;
}

export interface LocalEventBusOptions {
  now?: () => Date;
  /** Told of a log whose last line was cut short; standard error by default. */
  onWarning?: Warn;
}

/** An EventBridge rule: top-level fields, each matched against a list of accepted values, and its target. */
export interface LocalRule {
  pattern: Record<string, string[]>;
  target: (event: AuditLogEntry) => void;
}

/**
 * EventBridge at home: answers PutEventsCommand like the service does (same limits, same per-entry
 * failures) and appends accepted events to `<dataDir>/eventbridge/<busName>.jsonl`. A log whose last line
 * was cut short (a crash mid-append) gets that line ended before the first append, so later lines parse.
 */
export class LocalEventBus implements EventBridgeApi {
  /** PutEvents calls received, accepted or not: benchmarks compare it with the event count. */
  putEventsCalls = 0;
  private pendingFailures: { count: number; errorCode: string } = { count: 0, errorCode: '' };
  private readonly rules: LocalRule[] = [];
  private readonly now: () => Date;
  private readonly warn: Warn;
  /** Per bus: its log is ready for appends (directory made, a torn last line ended). */
  private readonly opened = new Map<string, Promise<void>>();

  constructor(
    private readonly dataDir: string,
    options: LocalEventBusOptions = {},
  ) {
    this.now = options.now ?? (() => new Date());
    this.warn = options.onWarning ?? warnOnStderr;
  }

  /** Adds a rule: each accepted event that matches is handed to its target once it is in the log. */
  addRule(rule: LocalRule): void {
    this.rules.push(rule);
  }

  /** Test fault injection: the next `count` entries received fail with `errorCode`, as AWS reports it. */
  failEntries(count: number, errorCode = 'InternalFailure'): void {
    this.pendingFailures = { count, errorCode };
  }

  async send(command: PutEventsCommand): Promise<PutEventsCommandOutput> {
    if (!((command as unknown) instanceof PutEventsCommand)) {
      throw new Error(
        `LocalEventBus answers PutEventsCommand only, not ${(command as object).constructor.name}`,
      );
    }
    this.putEventsCalls += 1;
    const entries = command.input.Entries ?? [];
    if (entries.length < 1 || entries.length > PUT_EVENTS_MAX_ENTRIES) {
      throw validationError(
        `1 validation error detected: Value at 'entries' failed to satisfy constraint: ` +
          `Member must have length less than or equal to ${PUT_EVENTS_MAX_ENTRIES} and greater than or equal to 1`,
      );
    }
    const total = entries.reduce((sum, e) => sum + putEventsEntrySize(e), 0);
    if (total > PUT_EVENTS_MAX_BYTES) {
      throw validationError('Total size of the entries in the request is over the limit.');
    }

    const results: PutEventsResultEntry[] = [];
    const accepted: AuditLogEntry[] = [];
    const linesByBus = new Map<string, string[]>();
    for (const entry of entries) {
      const outcome = this.accept(entry);
      if ('ErrorCode' in outcome) {
        results.push(outcome);
        continue;
      }
      results.push({ EventId: outcome.id });
      accepted.push(outcome);
      const lines = linesByBus.get(outcome.bus) ?? [];
      lines.push(JSON.stringify(outcome));
      linesByBus.set(outcome.bus, lines);
    }
    for (const [bus, lines] of linesByBus) {
      await this.ready(bus);
      // One append per bus and call keeps a call's lines together when calls run concurrently.
      await appendFile(auditLogPath(this.dataDir, bus), `${lines.join('\n')}\n`, 'utf8');
    }
    // Targets run after PutEvents answers, as EventBridge delivers asynchronously.
    for (const event of accepted) {
      for (const rule of this.rules.filter((r) => matches(r.pattern, event))) rule.target(event);
    }
    return {
      FailedEntryCount: results.filter((r) => r.ErrorCode !== undefined).length,
      Entries: results,
      $metadata: { httpStatusCode: 200 },
    };
  }

  private ready(bus: string): Promise<void> {
    let opening = this.opened.get(bus);
    if (!opening) {
      opening = this.endTornLine(auditLogPath(this.dataDir, bus));
      this.opened.set(bus, opening);
      opening.catch(() => this.opened.delete(bus));
    }
    return opening;
  }

  /**
   * Ends a last line left without its newline by an append cut short, so the next append starts a line of its
   * own. The torn line stays (readers skip it): cutting it off could cut an append another process just made.
   */
  private async endTornLine(path: string): Promise<void> {
    await mkdir(dirname(path), { recursive: true });
    if (!(await endsMidLine(path))) return;
    await appendFile(path, '\n', 'utf8');
    this.warn(
      `the last line of ${path} was cut short (an append interrupted by a crash; PutEvents never answered it): ` +
        'ended it, so later events start on lines of their own; readers skip it',
    );
  }

  private accept(
    entry: PutEventsRequestEntry,
  ): AuditLogEntry | Required<Pick<PutEventsResultEntry, 'ErrorCode' | 'ErrorMessage'>> {
    if (this.pendingFailures.count > 0) {
      this.pendingFailures.count -= 1;
      return { ErrorCode: this.pendingFailures.errorCode, ErrorMessage: 'injected failure' };
    }
    if (!entry.Source || !entry.DetailType || entry.Detail === undefined) {
      return {
        ErrorCode: 'InvalidArgument',
        ErrorMessage: 'Parameters Source, DetailType and Detail are required.',
      };
    }
    let detail: unknown;
    try {
      detail = JSON.parse(entry.Detail);
    } catch {
      detail = undefined;
    }
    if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) {
      return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
    }
    return {
      id: randomUUID(),
      time: (entry.Time ?? this.now()).toISOString(),
      source: entry.Source,
      'detail-type': entry.DetailType,
      detail,
      bus: busNameOf(entry.EventBusName),
    };
  }
}

/**
 * Every event the local bus accepted on `busName`, oldest first; none when nothing was sent. A line that is
 * not an event (cut short by a crash, edited) is skipped, with one warning naming the file and its lines.
 */
export async function readAuditLog(
  dataDir: string,
  busName: string,
  options: { onWarning?: Warn } = {},
): Promise<AuditLogEntry[]> {
  const path = auditLogPath(dataDir, busNameOf(busName));
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const events: AuditLogEntry[] = [];
  const skipped: number[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const json = parseJson(line);
    if ('value' in json && isAuditLogEntry(json.value)) events.push(json.value);
    else skipped.push(i + 1);
  });
  if (skipped.length > 0) {
    (options.onWarning ?? warnOnStderr)(
      `skipped line${skipped.length > 1 ? 's' : ''} ${skipped.join(', ')} of ${path}: not a complete event ` +
        '(an append cut short by a crash, or an edit); delete those lines to silence this warning',
    );
  }
  return events;
}

const NEWLINE = 0x0a;

/** Whether the file's last byte is not a newline; false for an empty or missing file. */
async function endsMidLine(path: string): Promise<boolean> {
  let log: FileHandle;
  try {
    log = await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  try {
    const { size } = await log.stat();
    if (size === 0) return false;
    const last = Buffer.alloc(1);
    await log.read(last, 0, 1, size - 1);
    return last[0] !== NEWLINE;
  } finally {
    await log.close();
  }
}

const isAuditLogEntry = (value: unknown): value is AuditLogEntry => {
  const e = value as Partial<Record<keyof AuditLogEntry, unknown>> | null;
  return (
    typeof e === 'object' &&
    e !== null &&
    [e.id, e.time, e.source, e['detail-type'], e.bus].every((field) => typeof field === 'string') &&
    typeof e.detail === 'object' &&
    e.detail !== null
  );
};

const auditLogPath = (dataDir: string, busName: string) => join(dataDir, 'eventbridge', `${busName}.jsonl`);

/** EventBusName may be a name or an ARN (`arn:aws:events:…:event-bus/<name>`); absent means `default`. */
function busNameOf(nameOrArn: string | undefined): string {
  const name = nameOrArn?.split(':event-bus/').pop() || 'default';
  if (!/^[\w.\-/]+$/.test(name) || name.split('/').some((part) => part === '..' || part === '')) {
    throw validationError(`Invalid event bus name: ${name}`);
  }
  return name.replaceAll('/', '_');
}

function validationError(message: string): EventBridgeServiceException {
  return new EventBridgeServiceException({
    name: 'ValidationException',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
    message,
  });
}

const matches = (pattern: Record<string, string[]>, event: AuditLogEntry): boolean =>
  Object.entries(pattern).every(([field, values]) =>
    values.includes(String(event[field as keyof AuditLogEntry])),
  );
