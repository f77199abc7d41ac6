import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** The shape of a segment document (validated by `validateSegment`; errors name their path). */
export const SEGMENT_DOCUMENT_SCHEMA = {
  type: 'object',
  required: ['name', 'conditions'],
  properties: {
    id: { type: 'string', description: "The segment's id (default: the path's); letters, digits, - and _, at most 64" },
    name: { type: 'string' },
    description: { type: 'string' },
    conditions: {
      type: 'object',
      additionalProperties: true,
      description:
        'A state in the trigger language: traits, inStage, count / sum in a window, usageDrop, absent, inactive, account, with all / any / not',
    },
  },
  example: {
    name: 'Active pro customers',
    conditions: { all: [{ traits: { plan: 'pro' } }, { count: { event: 'Feature Used', within: '7d', gte: 3 } }] },
  },
};

export class SegmentChangeDto {
  @ApiProperty({ example: 'active-pro' }) id!: string;
  @ApiProperty({ example: 'Active pro customers' }) name!: string;
  @ApiProperty({ example: 2, description: 'Latest version' }) version!: number;
  @ApiProperty() removed!: boolean;
  @ApiProperty({ description: 'false when the command changed nothing (same document again, removed already)' }) changed!: boolean;
}

export class SegmentSummaryDto {
  @ApiProperty({ example: 'active-pro' }) id!: string;
  @ApiProperty({ example: 'Active pro customers' }) name!: string;
  @ApiProperty({ example: 2 }) version!: number;
  @ApiProperty() removed!: boolean;
  @ApiProperty({ example: 412, description: 'Members now' }) members!: number;
}

export class SegmentListDto {
  @ApiProperty({ type: [SegmentSummaryDto] }) segments!: SegmentSummaryDto[];
}

export class SegmentVersionDto {
  @ApiProperty() version!: number;
  @ApiProperty() definedAt!: string;
  @ApiProperty({ example: 'http:csm' }) definedBy!: string;
}

export class SegmentBackfillDto {
  @ApiProperty({ enum: ['SegmentDefined', 'SegmentRemoved'] }) of!: string;
  @ApiProperty() version!: number;
  @ApiProperty({ description: 'Customers asked to be evaluated so far' }) customers!: number;
  @ApiProperty() done!: boolean;
}

export class SegmentDetailDto extends SegmentSummaryDto {
  @ApiPropertyOptional() description?: string;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The latest version of the document' }) definition!: Record<
    string,
    unknown
  >;
  @ApiProperty({ type: [SegmentVersionDto] }) versions!: SegmentVersionDto[];
  @ApiPropertyOptional({ type: SegmentBackfillDto }) backfill?: SegmentBackfillDto;
}

export class SegmentMemberDto {
  @ApiProperty({ example: 'user-42' }) customerId!: string;
  @ApiProperty({ example: '2026-03-02T10:00:00.000Z' }) enteredAt!: string;
  @ApiProperty({ description: 'The version the customer entered' }) version!: number;
}

export class SegmentMembersDto {
  @ApiProperty() segmentId!: string;
  @ApiProperty({ description: 'Members now' }) total!: number;
  @ApiProperty({ type: [SegmentMemberDto] }) members!: SegmentMemberDto[];
  @ApiPropertyOptional({ description: 'Cursor of the next page; absent on the last' }) next?: string;
}

export class SegmentDayDto {
  @ApiProperty({ example: '2026-03-02' }) day!: string;
  @ApiProperty() entered!: number;
  @ApiProperty() left!: number;
  @ApiProperty({ description: 'Members at the end of the day' }) members!: number;
}

export class SegmentCountsDto {
  @ApiProperty() segmentId!: string;
  @ApiProperty() from!: string;
  @ApiProperty() to!: string;
  @ApiProperty({ type: [SegmentDayDto] }) days!: SegmentDayDto[];
}

export class SegmentValidationErrorDto {
  @ApiProperty({ example: 400 }) statusCode!: number;
  @ApiProperty({ example: 'invalid segment: conditions.count.within: expected a duration like "3d", got "soon"' }) message!: string;
  @ApiProperty({ example: ['conditions.count.within: expected a duration like "3d", got "soon"'] }) errors!: string[];
}
