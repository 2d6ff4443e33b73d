import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  SECRET_CHANGE_SOURCE,
  SECRET_CHANGED_DETAIL_TYPE,
  type SecretChange,
  SecretChangeNotAnnounced,
} from '../../domain/webhook';
import type { SecretChanges } from './secret-changes';
import type { EventBridgeApi } from '../../aws/clients';

/** Puts each accepted change on an EventBridge bus as one `Keywhiz Secret Changed` event. */
export class EventBridgeSecretChanges implements SecretChanges {
  constructor(
    private readonly client: EventBridgeApi,
    private readonly options: { busName: string },
  ) {}

  async announce(change: SecretChange): Promise<void> {
    const result = await this.client.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: this.options.busName,
            Source: SECRET_CHANGE_SOURCE,
            DetailType: SECRET_CHANGED_DETAIL_TYPE,
            // The change names the secret only; a value never reaches the receiver.
            Detail: JSON.stringify(change),
          },
        ],
      }),
    );
    if ((result.FailedEntryCount ?? 0) > 0) {
      const entry = result.Entries?.[0];
      throw new SecretChangeNotAnnounced(
        `EventBridge refused the change of ${change.secret} (delivery ${change.deliveryId}): ${entry?.ErrorCode ?? 'unknown'} ${entry?.ErrorMessage ?? ''}`.trim(),
      );
    }
  }
}
