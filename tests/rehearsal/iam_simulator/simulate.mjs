// The deploy rehearsal's IAM policy evaluator: @cloud-copilot/iam-simulate, one request a line on stdin (a
// Simulation as that library defines it), one answer a line on stdout: {decision, errors}.
import { createInterface } from "node:readline";
import { runSimulation } from "@cloud-copilot/iam-simulate";

for await (const line of createInterface({ input: process.stdin })) {
  let answer;
  try {
    const result = await runSimulation(JSON.parse(line), {});
    answer = result.resultType === "error"
      ? { decision: "Error", errors: result.errors }
      : { decision: result.overallResult };
  } catch (error) {
    answer = { decision: "Error", errors: { message: String(error && error.stack || error) } };
  }
  process.stdout.write(JSON.stringify(answer) + "\n");
}
