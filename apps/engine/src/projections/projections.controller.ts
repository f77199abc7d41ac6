import { Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Allow } from '../auth/auth.guard';
import { ProjectionStatusQuery } from './projection-status.query';
import { RebuildProjectionCommand } from './rebuild-projection.command';

@ApiTags('admin')
@ApiBearerAuth('key')
@Controller('v1/admin/projections')
@Allow('admin')
export class ProjectionsController {
  constructor(
    private readonly commandBus: CommandBus,
    private readonly queryBus: QueryBus,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Each projection: position, head of the log, lag, last error' })
  list() {
    return this.queryBus.execute(new ProjectionStatusQuery());
  }

  @Post(':name/rebuild')
  @HttpCode(200)
  @ApiOperation({ summary: 'Rebuild a projection from zero, compare it with the live model and swap it in' })
  rebuild(@Param('name') name: string) {
    return this.commandBus.execute(new RebuildProjectionCommand(name));
  }
}
