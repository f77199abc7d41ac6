import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { ProjectionsService, type ProjectionStatus } from './projections.service';

/** GET /v1/admin/projections: each projection's position, the head of the log, lag, last error. */
export class ProjectionStatusQuery extends Query<{ projections: ProjectionStatus[] }> {}

@QueryHandler(ProjectionStatusQuery)
export class ProjectionStatusHandler implements IQueryHandler<ProjectionStatusQuery> {
  constructor(private readonly projections: ProjectionsService) {}

  async execute(): Promise<{ projections: ProjectionStatus[] }> {
    return { projections: await this.projections.status() };
  }
}
