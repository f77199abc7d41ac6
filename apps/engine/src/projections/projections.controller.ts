import { Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Allow } from '../auth/auth.guard';
import { ProjectionsService } from './projections.service';

@ApiTags('admin')
@ApiBearerAuth('key')
@Controller('v1/admin/projections')
@Allow('admin')
export class ProjectionsController {
  constructor(private readonly projections: ProjectionsService) {}

  @Get()
  @ApiOperation({ summary: 'Each projection: position, head of the log, lag, last error' })
  async list() {
    return { projections: await this.projections.status() };
  }

  @Post(':name/rebuild')
  @HttpCode(200)
  @ApiOperation({ summary: 'Rebuild a projection from zero, compare it with the live model and swap it in' })
  async rebuild(@Param('name') name: string) {
    const report = await this.projections.rebuild(name);
    return { ...report, position: report.position.toString() };
  }
}
