import { createHash } from 'node:crypto';
import { mkdir, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DeliveryLog } from '../../functions/shared/ports/delivery-log/delivery-log';

/**
 * Delivery ids as files under `<dataDir>/webhook/deliveries/`, one per id, named by the SHA-256 of the id.
 * A claim creates its file with the exclusive flag, so of two concurrent claims (even from two processes)
 * exactly one wins. Ids are kept until removed by hand; the local stack sees few deliveries.
 */
export class FileDeliveryLog implements DeliveryLog {
  private readonly dir: string;
  private ready: Promise<unknown> | undefined;

  constructor(dataDir: string) {
    this.dir = join(dataDir, 'webhook', 'deliveries');
  }

  async claim(deliveryId: string): Promise<boolean> {
    this.ready ??= mkdir(this.dir, { recursive: true, mode: 0o700 });
    await this.ready;
    try {
      await writeFile(
        this.fileOf(deliveryId),
        `${JSON.stringify({ deliveryId, claimedAt: new Date().toISOString() })}\n`,
        {
          flag: 'wx',
        },
      );
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    }
  }

  async release(deliveryId: string): Promise<void> {
    try {
      await unlink(this.fileOf(deliveryId));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }

  /** Hashed, so any id (dots and colons included) is a plain, fixed-length file name. */
  private fileOf(deliveryId: string): string {
    return join(this.dir, createHash('sha256').update(deliveryId).digest('hex'));
  }
}
