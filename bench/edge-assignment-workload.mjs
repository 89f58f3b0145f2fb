// The workload of bench/edge-assignment.mjs, run unchanged in Node and in workerd: assignments
// per second of makeAssigner over 200,000 users. `tick` is awaited before and after the timed
// loop (workerd's clock only moves at I/O).
import { makeAssigner } from "@org/ml-core/assignment"

const users = Array.from({ length: 200_000 }, (_, i) => `user-${i}-${(i * 2654435761) % 1000003}`)
const experiment = {
  seed: "edge-bench",
  coverage: 0.9,
  mode: "ab",
  banditHistory: [],
  variants: [0.2, 0.3, 0.5].map((share, i) => ({ modelId: `m${i}`, isControl: i === 0, trafficPct: share * 100 }))
}

export const assignmentsPerSecond = async (tick) => {
  const assign = makeAssigner(experiment)
  let checksum = 0
  for (let i = 0; i < 50_000; i++) checksum += assign(users[i])
  await tick()
  const start = performance.now()
  for (const user of users) checksum += assign(user)
  await tick()
  const seconds = (performance.now() - start) / 1000
  if (checksum === 0.5) throw new Error("unreachable: keeps the loop")
  return users.length / seconds
}
