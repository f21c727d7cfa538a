/**
 * The load test's generator in a process of its own (bench/api-load.ts `openLoopInChild`): receives
 * the plan, sends it on schedule, answers with the figures and its own CPU time a request sent.
 */
import { sendPlan, type PlannedRequest } from './api-load.js';

interface Order {
  url: string;
  plan: PlannedRequest[];
  kinds: string[];
  rate: number;
  durationSeconds: number;
  maxInFlight: number;
}

process.once('message', (order: Order) => {
  void (async () => {
    const cpu0 = process.cpuUsage();
    const figures = await sendPlan(
      order.url,
      order.plan,
      order.kinds,
      order.rate,
      order.durationSeconds,
      order.maxInFlight,
      'http',
    );
    const cpu = process.cpuUsage(cpu0);
    process.send!({
      ...figures,
      generatorCpuMsPerRequest: Math.round(((cpu.user + cpu.system) / 1000 / Math.max(1, figures.sent)) * 100) / 100,
    });
  })().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
});
