/**
 * jest globalSetup of the contract project: starts one moto_server for the run and publishes its endpoint
 * in MOTO_ENDPOINT (the workers inherit it). When it cannot start, MOTO_UNAVAILABLE says why and every
 * contract test fails with that reason (motoEndpoint()); nothing is skipped.
 */
import { MOTO_ENDPOINT_VARIABLE, MOTO_UNAVAILABLE_VARIABLE, type MotoServer, startMotoServer } from './moto';

export const MOTO_SERVER_GLOBAL = '__trustBridgeMotoServer';

export default async function motoGlobalSetup(): Promise<void> {
  delete process.env[MOTO_ENDPOINT_VARIABLE];
  delete process.env[MOTO_UNAVAILABLE_VARIABLE];
  try {
    const server: MotoServer = await startMotoServer();
    (globalThis as Record<string, unknown>)[MOTO_SERVER_GLOBAL] = server;
    process.env[MOTO_ENDPOINT_VARIABLE] = server.endpoint;
  } catch (error) {
    process.env[MOTO_UNAVAILABLE_VARIABLE] = error instanceof Error ? error.message : String(error);
  }
}
