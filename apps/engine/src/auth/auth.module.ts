import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ConversationsModule } from '../conversations/conversations.module';
import { AuthGuard } from './auth.guard';
import { KeyStore } from './key-store';
import { KeysController } from './keys.controller';
import { CreateKeyHandler } from './create-key.command';
import { ListKeysHandler } from './list-keys.query';
import { RevokeKeyHandler } from './revoke-key.command';
import { RotateKeyHandler } from './rotate-key.command';

/** Keys (hashed at rest, managed over /v1/admin/keys), the guard every route passes, per-key rate limits. */
@Global()
@Module({
  imports: [ConversationsModule],
  controllers: [KeysController],
  providers: [KeyStore, { provide: APP_GUARD, useClass: AuthGuard }, CreateKeyHandler, ListKeysHandler, RotateKeyHandler, RevokeKeyHandler],
  exports: [KeyStore],
})
export class AuthModule {}
