// The docker side of bench/lab-up: `lab up --runtime docker` (image built) to every host healthy,
// and the lab containers' memory as `docker stats` counts it (usage less inactive page cache).
import type Docker from 'dockerode';
import { DockerRuntime } from '../lab-cli/runtime/docker.js';
import { connectEngine, labContainers } from '../lab-cli/runtime/docker-engine.js';
import { settingsFromEnv } from '../services/common/settings.js';

export interface DockerFigures {
  upMs: number[];
  memBytes: number[];
  hosts: number;
}

async function containerMemory(docker: Docker): Promise<number> {
  let sum = 0;
  for (const info of (await labContainers(docker)).values()) {
    if (info.State !== 'running') continue;
    const s = (await docker.getContainer(info.Id).stats({ stream: false })) as {
      memory_stats: { usage?: number; stats?: Record<string, number> };
    };
    const st = s.memory_stats.stats ?? {};
    sum += (s.memory_stats.usage ?? 0) - (st.total_inactive_file ?? st.inactive_file ?? 0);
  }
  return sum;
}

export async function measureDocker(runs: number): Promise<DockerFigures> {
  const rt = new DockerRuntime(settingsFromEnv(process.env, { runtime: 'docker' }));
  const docker = await connectEngine();
  const out: DockerFigures = { upMs: [], memBytes: [], hosts: 0 };
  await rt.down();
  for (let i = 0; i < runs; i++) {
    try {
      const t0 = performance.now();
      const r = await rt.up({ quiet: true });
      out.upMs.push(performance.now() - t0);
      out.hosts = r.started.length;
      await new Promise((res) => setTimeout(res, 1000)); // as for local: let start-up settle
      out.memBytes.push(await containerMemory(docker));
    } finally {
      await rt.down();
    }
  }
  return out;
}
