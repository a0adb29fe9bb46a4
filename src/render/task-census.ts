// The task figures of a view, through the view service's ContainerTasks (which counts
// small containers and takes large ones from the sampler).
import { NO_TASKS, type TaskCensus, type TaskList } from '../cgroup/tasks.js';
import type { CgroupView } from '../cgroup/view.js';
import type { ViewSources } from './sources.js';

/** The census of the tasks listed at `list` (see ContainerTasks.census for `nsLevel` and `switches`). */
export function listCensus(sources: ViewSources, list: TaskList, cgroups: CgroupView, nsLevel?: number, switches = false): TaskCensus {
  return sources.tasks.census(list, cgroups, nsLevel, switches);
}

/** The census of the view's cgroup subtree; no tasks when no hierarchy lists them. */
export function taskCensus(sources: ViewSources, cgroups: CgroupView, nsLevel?: number, switches = false): TaskCensus {
  const list = sources.cgroups.taskList(cgroups);
  return list === undefined ? NO_TASKS : listCensus(sources, list, cgroups, nsLevel, switches);
}
