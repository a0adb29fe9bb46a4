// The task figures of a view: through the view service's ContainerTasks (which counts
// small containers and takes large ones from the sampler), or, without one, every task
// counted (tests and tools that build sources by hand).
import type { CgroupPaths } from '../cgroup/membership.js';
import { TaskReader } from '../cgroup/task-reader.js';
import { CensusTaker, NO_TASKS, taskListOf, type TaskCensus, type TaskList } from '../cgroup/tasks.js';
import type { ViewSources } from './sources.js';

/** Unbudgeted census takers for sources without ContainerTasks, per proc root. */
const exactCensuses = new Map<string, CensusTaker>();

/** The census of the tasks listed at `list` (see ContainerTasks.census for `nsLevel` and `switches`). */
export function listCensus(sources: ViewSources, list: TaskList, paths: CgroupPaths, nsLevel?: number, switches = false): TaskCensus {
  if (sources.tasks !== undefined) return sources.tasks.census(list, paths, nsLevel, switches);
  let censuses = exactCensuses.get(sources.procRoot);
  if (censuses === undefined) exactCensuses.set(sources.procRoot, (censuses = new CensusTaker(new TaskReader(sources.procRoot))));
  return censuses.census(list, { nsLevel, switches }) ?? NO_TASKS;
}

/** The census of the view's cgroup subtree; no tasks when no hierarchy lists them. */
export function taskCensus(sources: ViewSources, paths: CgroupPaths, nsLevel?: number, switches = false): TaskCensus {
  const list = taskListOf(sources.layout, paths);
  return list === undefined ? NO_TASKS : listCensus(sources, list, paths, nsLevel, switches);
}
