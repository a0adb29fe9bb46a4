// The task figures of a view, through the view service's ContainerTasks (which counts
// small containers and takes large ones from the sampler).
import type { CgroupPaths } from '../cgroup/membership.js';
import { NO_TASKS, taskListOf, type TaskCensus, type TaskList } from '../cgroup/tasks.js';
import type { ViewSources } from './sources.js';

/** The census of the tasks listed at `list` (see ContainerTasks.census for `nsLevel` and `switches`). */
export function listCensus(sources: ViewSources, list: TaskList, paths: CgroupPaths, nsLevel?: number, switches = false): TaskCensus {
  return sources.tasks.census(list, paths, nsLevel, switches);
}

/** The census of the view's cgroup subtree; no tasks when no hierarchy lists them. */
export function taskCensus(sources: ViewSources, paths: CgroupPaths, nsLevel?: number, switches = false): TaskCensus {
  const list = taskListOf(sources.layout, paths);
  return list === undefined ? NO_TASKS : listCensus(sources, list, paths, nsLevel, switches);
}
