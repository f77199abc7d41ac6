import { Module } from '@nestjs/common';
import { PreviewsController } from './previews.controller';
import { PreviewsService } from './previews.service';

/** Previews, test sends and why-not (issue #12, "Before sending"). */
@Module({
  controllers: [PreviewsController],
  providers: [PreviewsService],
})
export class PreviewsModule {}
