/** jest globalTeardown of the contract project: stops the run's moto_server by its PID. */
import type { MotoServer } from './moto';
import { MOTO_SERVER_GLOBAL } from './moto-global-setup';

export default async function motoGlobalTeardown(): Promise<void> {
  const globals = globalThis as Record<string, unknown>;
  const server = globals[MOTO_SERVER_GLOBAL] as MotoServer | undefined;
  delete globals[MOTO_SERVER_GLOBAL];
  await server?.stop();
}
